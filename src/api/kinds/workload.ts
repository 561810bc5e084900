/** What Deployment, ReplicaSet, StatefulSet and DaemonSet share: a selector that must match a pod template. */

import { fieldErrors } from '../errors.js';
import type { FieldError } from '../errors.js';
import { childPath } from '../schema.js';
import { matchesLabels } from '../selectors.js';
import type { KubeObject } from '../types.js';
import { IMMUTABLE, deepEqual, isSet, selectorOrUndefined } from './common.js';
import type { LabelSelectorSpec } from './common.js';
import { checkTemplateForController, defaultPodSpec } from './pod.js';
import type { PodTemplateSpec } from './pod.js';

interface WorkloadSpec {
  selector?: LabelSelectorSpec;
  template?: PodTemplateSpec;
}

/** ValidateDeploymentSpec's selector part, shared by all four controllers. */
export function checkSelectorAndTemplate(spec: WorkloadSpec, path: string, errors: FieldError[], kindName: string): void {
  const selectorPath = childPath(path, 'selector');
  const templatePath = childPath(path, 'template');
  if (isSet(spec.selector) && Object.keys(spec.selector.matchLabels ?? {}).length + (spec.selector.matchExpressions ?? []).length === 0) {
    errors.push(fieldErrors.invalid(selectorPath, spec.selector, `empty selector is invalid for ${kindName}`));
  }
  // A missing selector or template already has its `Required value` error from the schema.
  if (!isSet(spec.template)) return;
  const selector = selectorOrUndefined(spec.selector);
  if (isSet(spec.selector) && selector && selector.requirements.length > 0 && !matchesLabels(selector, spec.template.metadata?.labels)) {
    errors.push(fieldErrors.invalid(childPath(childPath(templatePath, 'metadata'), 'labels'), spec.template.metadata?.labels ?? {}, '`selector` does not match template `labels`'));
  }
  checkTemplateForController(spec.template, templatePath, errors);
}

/** Controllers find their pods by selector, so changing it would orphan them. */
export function validateSelectorUpdate(object: KubeObject, old: KubeObject): FieldError[] {
  const selector = (object.spec as WorkloadSpec | undefined)?.selector;
  const oldSelector = (old.spec as WorkloadSpec | undefined)?.selector;
  return deepEqual(selector, oldSelector) ? [] : [fieldErrors.invalid('spec.selector', selector, IMMUTABLE)];
}

export function defaultTemplate(spec: WorkloadSpec | undefined): void {
  if (isSet(spec) && isSet(spec.template) && isSet(spec.template.spec)) defaultPodSpec(spec.template.spec);
}
