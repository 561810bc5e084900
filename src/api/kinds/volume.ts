/** Pod volumes: the sources pm8s can provide on a node. */

import { fieldErrors } from '../errors.js';
import { isConfigMapKey, isDns1123Label, isDns1123Subdomain } from '../names.js';
import { childPath, s } from '../schema.js';
import type { Infer } from '../schema.js';
import { isSet } from './common.js';

export const VOLUME_SOURCES = ['emptyDir', 'hostPath', 'configMap', 'secret', 'persistentVolumeClaim'] as const;

const keyToPathSchema = s.object({
  key: s.string().required(),
  path: s.string().required(),
  mode: s.integer({ min: 0, max: 0o777 }),
}).check((item, path, errors) => {
  for (const message of isConfigMapKey(item.key)) errors.push(fieldErrors.invalid(childPath(path, 'key'), item.key, message));
  // The path lands under the volume's directory, so it must stay there.
  if (item.path.startsWith('/')) errors.push(fieldErrors.invalid(childPath(path, 'path'), item.path, 'must be a relative path'));
  if (item.path.split('/').includes('..')) errors.push(fieldErrors.invalid(childPath(path, 'path'), item.path, "must not contain '..'"));
});

const modeSchema = s.integer({ min: 0, max: 0o777 });

export const volumeSchema = s.object({
  name: s.string().required(),
  emptyDir: s.object({ medium: s.string({ enum: ['', 'Memory'] }), sizeLimit: s.quantity() }),
  hostPath: s.object({
    path: s.string().required(),
    type: s.string({ enum: ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'] }),
  }),
  configMap: s.object({ name: s.string(), items: s.array(keyToPathSchema), defaultMode: modeSchema, optional: s.boolean() }),
  secret: s.object({ secretName: s.string(), items: s.array(keyToPathSchema), defaultMode: modeSchema, optional: s.boolean() }),
  persistentVolumeClaim: s.object({ claimName: s.string().required(), readOnly: s.boolean() }),
}).check((volume, path, errors) => {
  for (const message of isDns1123Label(volume.name)) errors.push(fieldErrors.invalid(childPath(path, 'name'), volume.name, message));
  const sources = VOLUME_SOURCES.filter((source) => isSet(volume[source]));
  if (sources.length > 1) {
    errors.push(fieldErrors.forbidden(childPath(path, sources[1] ?? ''), `may not specify more than 1 volume type`));
  } else if (sources.length === 0) {
    const other = Object.keys(volume).find((key) => key !== 'name');
    errors.push(other
      ? fieldErrors.forbidden(childPath(path, other), `volume type not supported by pm8s; supported: ${VOLUME_SOURCES.join(', ')}`)
      : fieldErrors.required(path, 'must specify a volume type'));
  }
  const hostPath = volume.hostPath?.path;
  if (isSet(hostPath) && hostPath.split('/').includes('..')) {
    errors.push(fieldErrors.invalid(childPath(childPath(path, 'hostPath'), 'path'), hostPath, "must not contain '..'"));
  }
  const referenced = volume.configMap?.name ?? volume.secret?.secretName ?? volume.persistentVolumeClaim?.claimName;
  const referenceField = volume.configMap ? 'configMap.name' : volume.secret ? 'secret.secretName' : 'persistentVolumeClaim.claimName';
  if (referenced) for (const message of isDns1123Subdomain(referenced)) errors.push(fieldErrors.invalid(childPath(path, referenceField), referenced, message));
});
export type Volume = Infer<typeof volumeSchema>;

/** SetDefaults_Volume and its sources: no source means emptyDir; projected files default to 0644. */
export function defaultVolume(volume: Volume): void {
  const hasOtherKeys = Object.keys(volume).some((key) => key !== 'name');
  if (!hasOtherKeys) volume.emptyDir = {};
  if (isSet(volume.configMap)) volume.configMap.defaultMode ??= 0o644;
  if (isSet(volume.secret)) volume.secret.defaultMode ??= 0o644;
  if (isSet(volume.hostPath)) volume.hostPath.type ??= '';
}
