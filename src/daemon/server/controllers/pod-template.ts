/** Kubernetes' controller.GetPodFromTemplate, shared by the ReplicaSet, StatefulSet and DaemonSet controllers. */
import type { PodSpec, PodTemplateSpec } from '../../../api/kinds/pod.js';
import { clone } from '../../../api/meta.js';
import type { KubeObject } from '../../../api/types.js';
import { controllerRefTo } from './controller-ref.js';

export interface PodFromTemplate {
  name: string;
  generateName?: string;
  /** Added to (and over) the template's labels. */
  labels?: Record<string, string>;
  /** The pod's spec, when the controller edits the template's; else a copy of the template's. */
  spec?: PodSpec;
}

/** A pod of `template` in `owner`'s namespace, with the template's labels and annotations, controlled by `owner`. */
export function podFromTemplate(owner: KubeObject, template: PodTemplateSpec, pod: PodFromTemplate): KubeObject {
  const labels = { ...template.metadata?.labels, ...pod.labels };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.name,
      ...(pod.generateName === undefined ? {} : { generateName: pod.generateName }),
      namespace: owner.metadata.namespace,
      ...(template.metadata?.labels || pod.labels ? { labels } : {}),
      ...(template.metadata?.annotations ? { annotations: clone(template.metadata.annotations) } : {}),
      ownerReferences: [controllerRefTo(owner)],
    },
    spec: pod.spec ?? clone(template.spec),
  };
}
