/**
 * Namespace deletion (Kubernetes' namespace controller): a DELETE only marks a namespace
 * (deletionTimestamp, status.phase Terminating) while `kubernetes` is in its spec.finalizers. This
 * controller deletes everything inside through the API — so the objects' own finalizers and graceful
 * pod deletion apply — waits until nothing is left, then removes `kubernetes` from spec.finalizers and
 * the API removes the namespace (once its metadata.finalizers, if any, are gone too).
 *
 * Kubernetes finalizes through the `namespaces/{name}/finalize` subresource; pm8s uses a plain update of
 * spec.finalizers, which the API allows only on a namespace being deleted.
 */
import type { ApiError } from '../../../api/errors.js';
import { RESOURCES, resolveResource } from '../../../api/resources.js';
import type { KubeObject } from '../../../api/types.js';
import { isRecord } from '../../../api/types.js';
import { NAMESPACE_FINALIZER, namespaceFinalizers } from '../api/deletion-plan.js';
import type { Controller, ControllerContext, ReconcileResult } from './controller.js';
import { isNotFound, updateObject } from './garbage-collector-refs.js';
import type { WorkQueue } from './work-queue.js';

const namespaces = resolveResource('namespaces')!;
const NAMESPACED = RESOURCES.filter((info) => info.namespaced);
/** While objects inside are still held (finalizers, pods shutting down), look again this often. */
const CONTENT_RECHECK_MS = 1000;

const deleting = (namespace: KubeObject): boolean => namespace.metadata.deletionTimestamp !== undefined;

export class NamespaceController implements Controller {
  readonly name = 'namespace';

  setup(context: ControllerContext, queue: WorkQueue): void {
    context.informers
      .informer(namespaces)
      .on('add', (namespace) => {
        if (deleting(namespace)) queue.add(namespace.metadata.name ?? '');
      })
      .on('update', (_old, namespace) => {
        if (deleting(namespace)) queue.add(namespace.metadata.name ?? '');
      });
  }

  async reconcile(key: string, context: ControllerContext): Promise<ReconcileResult> {
    const namespace = context.informers.informer(namespaces).get(undefined, key);
    // Finalized already: what holds it now (metadata.finalizers) is someone else's.
    if (!namespace || !deleting(namespace) || !namespaceFinalizers(namespace).includes(NAMESPACE_FINALIZER)) return undefined;
    const { found, held } = await this.#deleteContents(context, key);
    // Anything found means another pass: only a pass that finds the namespace empty finalizes it, so an
    // object created just before the namespace was marked is not left behind.
    if (held > 0) return { requeueAfterMs: CONTENT_RECHECK_MS };
    if (found > 0) return { requeueAfterMs: 0 };
    await updateObject(context.client, namespaces, namespace, (copy) => {
      if (!isRecord(copy.spec)) return false;
      const finalizers = namespaceFinalizers(copy);
      if (!finalizers.includes(NAMESPACE_FINALIZER)) return false;
      copy.spec.finalizers = finalizers.filter((finalizer) => finalizer !== NAMESPACE_FINALIZER);
      return true;
    });
    context.logger.debug('namespace emptied and finalized', { namespace: key });
    return undefined;
  }

  /** Deletes every object in the namespace (Background, as Kubernetes); counts what was there and what is still held. */
  async #deleteContents(context: ControllerContext, namespace: string): Promise<{ found: number; held: number }> {
    let found = 0;
    let held = 0;
    for (const info of NAMESPACED) {
      const { items } = await context.client.list(info, namespace);
      for (const item of items) {
        found++;
        if (item.metadata.deletionTimestamp !== undefined) {
          held++;
          continue;
        }
        try {
          const result = await context.client.delete(info, namespace, item.metadata.name ?? '', {
            propagationPolicy: 'Background',
            preconditions: { uid: item.metadata.uid ?? '' },
          });
          if (result.metadata.deletionTimestamp !== undefined) held++;
        } catch (error) {
          // Gone already, or replaced (uid precondition): the next pass sees the new state.
          if (!isNotFound(error) && (error as ApiError).code !== 409) throw error;
        }
      }
    }
    return { found, held };
  }
}
