/**
 * `pm8s rollout history` and `rollout undo` for Deployments: both read the revisions the Deployment
 * controller writes on its ReplicaSets (`deployment.kubernetes.io/revision`), as kubectl does.
 */
import { isDeepStrictEqual } from 'node:util';
import { resolveResource } from '../api/resources.js';
import { labelSelectorFromObject, selectorToString, type LabelSelectorObject } from '../api/selectors.js';
import { rec } from '../api/tables/fields.js';
import type { KubeObject } from '../api/types.js';
import { isRecord } from '../api/types.js';
import type { HttpClient } from '../client/http-client.js';
import { describeTemplate } from './describers.js';
import { DescribeWriter, tabwrite } from './describe-writer.js';
import { CliError } from './errors.js';
import { REVISION_ANNOTATION } from './rollout-status.js';
import { LAST_APPLIED } from './three-way-patch.js';

const replicaSets = resolveResource('replicasets')!;
const deployments = resolveResource('deployments')!;

export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
const POD_TEMPLATE_HASH = 'pod-template-hash';
/** Annotations the Deployment controller owns; a rollback keeps the Deployment's own (kubectl's annotationsToSkip). */
const ANNOTATIONS_TO_SKIP = new Set([
  LAST_APPLIED,
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

interface Revision {
  number: number;
  replicaSet: KubeObject;
}

/** The Deployment's ReplicaSets (controlled by it) that carry a revision, oldest first. */
export async function revisionsOf(client: HttpClient, deployment: KubeObject): Promise<Revision[]> {
  const spec = rec(deployment.spec);
  const selector = selectorToString(labelSelectorFromObject(isRecord(spec.selector) ? (spec.selector as LabelSelectorObject) : undefined));
  const list = await client.list(replicaSets, deployment.metadata.namespace, selector ? { labelSelector: selector } : {});
  const revisions: Revision[] = [];
  for (const replicaSet of list.items) {
    const owned = (replicaSet.metadata.ownerReferences ?? []).some((owner) => owner.controller === true && owner.uid === deployment.metadata.uid);
    const number = Number(replicaSet.metadata.annotations?.[REVISION_ANNOTATION]);
    if (owned && Number.isInteger(number) && number > 0) revisions.push({ number, replicaSet });
  }
  return revisions.sort((a, b) => a.number - b.number);
}

/** The REVISION / CHANGE-CAUSE table, or one revision's pod template. */
export async function deploymentHistory(client: HttpClient, deployment: KubeObject, revision: number): Promise<string> {
  const revisions = await revisionsOf(client, deployment);
  if (revision > 0) {
    const found = revisions.find((entry) => entry.number === revision);
    if (!found) throw new CliError('NotSupported', 'unable to find the specified revision');
    const writer = new DescribeWriter();
    const template = rec(rec(found.replicaSet.spec).template);
    const annotations = rec(template.metadata).annotations;
    const changeCause = found.replicaSet.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION];
    // kubectl shows the change cause among the template's annotations.
    const shown = changeCause === undefined ? template : { ...template, metadata: { ...rec(template.metadata), annotations: { ...rec(annotations), [CHANGE_CAUSE_ANNOTATION]: changeCause } } };
    describeTemplate(shown, writer);
    return `with revision #${revision}\n${writer.toString()}`;
  }
  if (revisions.length === 0) return '\nNo rollout history found.\n';
  const rows = revisions.map(({ number, replicaSet }) => `${number}\t${replicaSet.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION] || '<none>'}`);
  return `\n${tabwrite(['REVISION\tCHANGE-CAUSE', ...rows])}`;
}

/**
 * kubectl's client-side rollback: the chosen ReplicaSet's pod template (without its
 * pod-template-hash label) written back into the Deployment. Returns what to print after the name.
 */
export async function undoDeployment(client: HttpClient, deployment: KubeObject, toRevision: number): Promise<string> {
  const name = deployment.metadata.name ?? '';
  const revisions = await revisionsOf(client, deployment);
  let target: Revision | undefined;
  if (toRevision > 0) {
    target = revisions.find((entry) => entry.number === toRevision);
    if (!target) throw new CliError('NotSupported', `unable to find specified revision ${toRevision} in history`);
  } else {
    target = revisions.at(-2);
    if (!target) throw new CliError('NotSupported', `no rollout history found for deployment "${name}"`);
  }
  if (rec(deployment.spec).paused === true) {
    throw new CliError('NotSupported', "you cannot rollback a paused deployment; resume it first with 'pm8s rollout resume' and try again");
  }
  const template = structuredClone(rec(rec(target.replicaSet.spec).template));
  const metadata = rec(template.metadata);
  const labels = { ...rec(metadata.labels) };
  delete labels[POD_TEMPLATE_HASH];
  template.metadata = { ...metadata, labels };
  if (isDeepStrictEqual(template, rec(deployment.spec).template)) return `skipped rollback (current template already matches revision ${target.number})`;
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(deployment.metadata.annotations ?? {})) if (ANNOTATIONS_TO_SKIP.has(key)) annotations[key] = value;
  for (const [key, value] of Object.entries(target.replicaSet.metadata.annotations ?? {})) if (!ANNOTATIONS_TO_SKIP.has(key)) annotations[key] = value;
  const patch = [
    { op: 'replace', path: '/spec/template', value: template },
    { op: 'add', path: '/metadata/annotations', value: annotations },
  ];
  await client.patch(deployments, deployment.metadata.namespace, name, 'application/json-patch+json', patch);
  return 'rolled back';
}
