/** PersistentVolumeClaims. */
import type { KubeObject } from '../types.js';
import { ageSince } from './format-age.js';
import { at, creationOf, deleting, nameOf, rec, str, strs } from './fields.js';
import { ageColumn, column, nameColumn, wideColumn, type KindPrinter } from './table.js';

const BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';

/** Short access mode names in Kubernetes' fixed order, each once. */
function accessModes(modes: string[]): string {
  const names: [string, string][] = [
    ['ReadWriteOnce', 'RWO'],
    ['ReadOnlyMany', 'ROX'],
    ['ReadWriteMany', 'RWX'],
    ['ReadWriteOncePod', 'RWOP'],
  ];
  return names
    .filter(([mode]) => modes.includes(mode))
    .map(([, short]) => short)
    .join(',');
}

/** The beta annotation wins over spec.storageClassName, as in Kubernetes. */
function storageClass(claim: KubeObject): string {
  const annotations = rec(rec(claim.metadata).annotations);
  if (typeof annotations[BETA_STORAGE_CLASS] === 'string') return annotations[BETA_STORAGE_CLASS];
  return str(at(claim.spec, 'storageClassName'));
}

export const persistentVolumeClaimPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Status'),
    column('Volume'),
    column('Capacity'),
    column('Access Modes'),
    column('StorageClass'),
    column('VolumeAttributesClass'),
    ageColumn,
    wideColumn('VolumeMode'),
  ],
  cells(claim, now) {
    const spec = rec(claim.spec);
    const volumeName = str(spec.volumeName);
    // Capacity and modes are what the bound volume provides, so blank until bound.
    const bound = volumeName !== '';
    return [
      nameOf(claim),
      deleting(claim) ? 'Terminating' : str(at(claim.status, 'phase')),
      volumeName,
      bound ? str(at(claim.status, 'capacity', 'storage')) || '0' : '',
      bound ? accessModes(strs(at(claim.status, 'accessModes'))) : '',
      storageClass(claim),
      str(spec.volumeAttributesClassName) || '<unset>',
      ageSince(creationOf(claim), now),
      str(spec.volumeMode) || '<unset>',
    ];
  },
};
