/** What `pm8s describe` shows per kind; kinds without their own describer get a walk of spec and status. */
import { at, int, rec, recs, selectorString, str, stringMap, strs } from '../api/tables/fields.js';
import { ageSince } from '../api/tables/format-age.js';
import type { KubeObject } from '../api/types.js';
import { isRecord } from '../api/types.js';
import { DescribeWriter, formatTimestamp } from './describe-writer.js';
import { LAST_APPLIED } from './three-way-patch.js';

type Describer = (object: KubeObject, w: DescribeWriter) => void;

/** The object's description, ending before `Events:` (the caller adds those). */
export function describeObject(object: KubeObject, namespaced: boolean, w: DescribeWriter): void {
  const metadata = object.metadata;
  w.field(0, 'Name', metadata.name);
  if (namespaced) w.field(0, 'Namespace', metadata.namespace);
  w.map(0, 'Labels', metadata.labels);
  const annotations = { ...(metadata.annotations ?? {}) };
  delete annotations[LAST_APPLIED];
  w.map(0, 'Annotations', annotations, ': ');
  w.field(0, 'CreationTimestamp', formatTimestamp(metadata.creationTimestamp));
  if (metadata.deletionTimestamp) w.field(0, 'DeletionTimestamp', formatTimestamp(metadata.deletionTimestamp));
  const owner = (metadata.ownerReferences ?? []).find((reference) => reference.controller === true);
  if (owner) w.field(0, 'Controlled By', `${owner.kind}/${owner.name}`);
  (DESCRIBERS[object.kind] ?? describeGeneric)(object, w);
}

const workload: Describer = (object, w) => {
  const spec = rec(object.spec);
  const status = rec(object.status);
  w.field(0, 'Selector', selectorString(spec.selector) || '<none>');
  if (object.kind !== 'DaemonSet') {
    const desired = int(spec.replicas, 1);
    const updated = int(status.updatedReplicas);
    const total = int(status.replicas);
    const available = int(status.availableReplicas);
    w.field(0, 'Replicas', object.kind === 'Deployment'
      ? `${desired} desired | ${updated} updated | ${total} total | ${available} available | ${int(status.unavailableReplicas)} unavailable`
      : `${total} current / ${desired} desired`);
  } else {
    w.field(0, 'Desired Number of Nodes Scheduled', int(status.desiredNumberScheduled));
    w.field(0, 'Current Number of Nodes Scheduled', int(status.currentNumberScheduled));
    w.field(0, 'Number of Nodes Scheduled with Up-to-date Pods', int(status.updatedNumberScheduled));
    w.field(0, 'Number of Nodes Scheduled with Available Pods', int(status.numberAvailable));
  }
  if (object.kind === 'Deployment') {
    const strategy = rec(spec.strategy);
    const type = str(strategy.type) || 'RollingUpdate';
    w.field(0, 'StrategyType', type);
    w.field(0, 'MinReadySeconds', int(spec.minReadySeconds));
    if (type === 'RollingUpdate') {
      const rolling = rec(strategy.rollingUpdate);
      w.field(0, 'RollingUpdateStrategy', `${String(rolling.maxUnavailable ?? '25%')} max unavailable, ${String(rolling.maxSurge ?? '25%')} max surge`);
    }
  }
  if (object.kind === 'StatefulSet') w.field(0, 'Update Strategy', str(at(spec, 'updateStrategy', 'type')) || 'RollingUpdate');
  describeTemplate(rec(spec.template), w);
  describeConditions(status, w);
};

export function describeTemplate(template: Record<string, unknown>, w: DescribeWriter): void {
  w.line(0, 'Pod Template:');
  w.map(1, 'Labels', stringMap(at(template, 'metadata', 'labels')));
  const podSpec = rec(template.spec);
  describeContainers(podSpec, undefined, 1, w);
  describeVolumes(podSpec, 1, w);
}

function describeContainers(podSpec: Record<string, unknown>, podStatus: Record<string, unknown> | undefined, level: number, w: DescribeWriter): void {
  for (const [field, title] of [['initContainers', 'Init Containers'], ['containers', 'Containers']] as const) {
    const containers = recs(podSpec[field]);
    if (containers.length === 0) {
      if (field === 'containers') w.field(level, title, '<none>');
      continue;
    }
    const statuses = recs(podStatus?.[field === 'containers' ? 'containerStatuses' : 'initContainerStatuses']);
    w.line(level, `${title}:`);
    for (const container of containers) {
      const name = str(container.name);
      w.line(level + 1, `${name}:`);
      const inner = level + 2;
      if (container.image !== undefined) w.field(inner, 'Image', str(container.image));
      const ports = recs(container.ports).map((port) => `${int(port.containerPort)}/${str(port.protocol) || 'TCP'}${port.name ? ` (${str(port.name)})` : ''}`);
      w.field(inner, ports.length > 1 ? 'Ports' : 'Port', ports.join(', ') || '<none>');
      listField(inner, 'Command', strs(container.command), w);
      listField(inner, 'Args', strs(container.args), w);
      if (container.workingDir !== undefined) w.field(inner, 'Working Dir', str(container.workingDir));
      const status = statuses.find((entry) => entry.name === name);
      if (status) {
        describeState(inner, 'State', rec(status.state), w);
        if (isRecord(status.lastState) && Object.keys(status.lastState).length > 0) describeState(inner, 'Last State', status.lastState, w);
        w.field(inner, 'Ready', status.ready === true ? 'True' : 'False');
        w.field(inner, 'Restart Count', int(status.restartCount));
      }
      const resources = rec(container.resources);
      for (const kind of ['limits', 'requests'] as const) {
        const values = stringMap(Object.fromEntries(Object.entries(rec(resources[kind])).map(([key, value]) => [key, String(value)])));
        if (Object.keys(values).length === 0) continue;
        w.line(inner, `${kind === 'limits' ? 'Limits' : 'Requests'}:`);
        for (const [key, value] of Object.entries(values)) w.field(inner + 1, key, value);
      }
      const env = recs(container.env);
      if (env.length === 0) w.field(inner, 'Environment', '<none>');
      else {
        w.line(inner, 'Environment:');
        for (const variable of env) {
          const from = rec(variable.valueFrom);
          const source = Object.keys(from)[0];
          w.field(inner + 1, str(variable.name), variable.value !== undefined ? str(variable.value) : source ? `<set from ${source}>` : '');
        }
      }
      const mounts = recs(container.volumeMounts).map((mount) => `${str(mount.mountPath)} from ${str(mount.name)} (${mount.readOnly === true ? 'ro' : 'rw'})`);
      listField(inner, 'Mounts', mounts, w);
    }
  }
}

function listField(level: number, label: string, values: string[], w: DescribeWriter): void {
  if (values.length === 0) return;
  w.line(level, `${label}:`);
  for (const value of values) w.line(level + 1, value);
}

function describeState(level: number, label: string, state: Record<string, unknown>, w: DescribeWriter): void {
  const [name, details] = Object.entries(state)[0] ?? ['waiting', {}];
  const detail = rec(details);
  w.field(level, label, name.charAt(0).toUpperCase() + name.slice(1));
  if (detail.reason) w.field(level + 1, 'Reason', str(detail.reason));
  if (detail.exitCode !== undefined) w.field(level + 1, 'Exit Code', int(detail.exitCode));
  if (detail.startedAt) w.field(level + 1, 'Started', formatTimestamp(detail.startedAt));
  if (detail.finishedAt) w.field(level + 1, 'Finished', formatTimestamp(detail.finishedAt));
}

function describeVolumes(podSpec: Record<string, unknown>, level: number, w: DescribeWriter): void {
  const volumes = recs(podSpec.volumes);
  if (volumes.length === 0) return w.field(level, 'Volumes', '<none>');
  w.line(level, 'Volumes:');
  for (const volume of volumes) {
    w.line(level + 1, `${str(volume.name)}:`);
    const [type, source] = Object.entries(volume).find(([key]) => key !== 'name') ?? ['unknown', {}];
    w.field(level + 2, 'Type', type);
    for (const [key, value] of Object.entries(rec(source))) w.field(level + 2, key, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
}

function describeConditions(status: Record<string, unknown>, w: DescribeWriter, withReason = true): void {
  const conditions = recs(status.conditions);
  if (conditions.length === 0) return;
  const header = withReason ? ['Type', 'Status', 'Reason'] : ['Type', 'Status'];
  w.table(0, 'Conditions', header, conditions.map((condition) => [str(condition.type), str(condition.status), ...(withReason ? [str(condition.reason) || ''] : [])]));
}

const pod: Describer = (object, w) => {
  const spec = rec(object.spec);
  const status = rec(object.status);
  w.field(0, 'Node', str(spec.nodeName) || '<none>');
  w.field(0, 'Start Time', status.startTime ? formatTimestamp(status.startTime) : '<unset>');
  w.field(0, 'Status', object.metadata.deletionTimestamp ? 'Terminating' : str(status.phase) || 'Pending');
  if (status.reason) w.field(0, 'Reason', str(status.reason));
  if (status.message) w.field(0, 'Message', str(status.message));
  w.field(0, 'IP', str(status.podIP));
  describeContainers(spec, status, 0, w);
  describeConditions(status, w, false);
  describeVolumes(spec, 0, w);
  w.map(0, 'Node-Selectors', stringMap(spec.nodeSelector));
};

const service: Describer = (object, w) => {
  const spec = rec(object.spec);
  w.map(0, 'Selector', stringMap(spec.selector));
  w.field(0, 'Type', str(spec.type) || 'ClusterIP');
  w.field(0, 'IP', str(spec.clusterIP) || '<none>');
  for (const port of recs(spec.ports)) {
    const protocol = str(port.protocol) || 'TCP';
    w.field(0, 'Port', `${str(port.name) || '<unset>'}  ${int(port.port)}/${protocol}`);
    w.field(0, 'TargetPort', `${String(port.targetPort ?? port.port)}/${protocol}`);
    if (port.nodePort !== undefined) w.field(0, 'NodePort', `${str(port.name) || '<unset>'}  ${int(port.nodePort)}/${protocol}`);
  }
  w.field(0, 'Session Affinity', str(spec.sessionAffinity) || 'None');
};

const node: Describer = (object, w) => {
  const spec = rec(object.spec);
  const status = rec(object.status);
  w.field(0, 'Unschedulable', spec.unschedulable === true ? 'true' : 'false');
  const taints = recs(spec.taints).map((taint) => `${str(taint.key)}${taint.value ? `=${str(taint.value)}` : ''}:${str(taint.effect)}`);
  w.field(0, 'Taints', taints.join('\n') || '<none>');
  const conditions = recs(status.conditions);
  w.table(0, 'Conditions', ['Type', 'Status', 'LastHeartbeatTime', 'Reason', 'Message'], conditions.map((condition) => [
    str(condition.type), str(condition.status), formatTimestamp(condition.lastHeartbeatTime), str(condition.reason), str(condition.message),
  ]));
  const addresses = recs(status.addresses);
  if (addresses.length > 0) {
    w.line(0, 'Addresses:');
    for (const address of addresses) w.field(1, str(address.type), str(address.address));
  }
  for (const [field, title] of [['capacity', 'Capacity'], ['allocatable', 'Allocatable']] as const) {
    const values = Object.entries(rec(status[field]));
    if (values.length === 0) continue;
    w.line(0, `${title}:`);
    for (const [key, value] of values) w.field(1, key, String(value));
  }
};

const configMap: Describer = (object, w) => {
  w.line(0, '');
  w.line(0, 'Data');
  w.line(0, '====');
  for (const [key, value] of Object.entries(rec(object.data))) {
    w.line(0, `${key}:`);
    w.line(0, '----');
    for (const line of String(value).split('\n')) w.line(0, line);
    w.line(0, '');
  }
};

const secret: Describer = (object, w) => {
  w.line(0, '');
  w.field(0, 'Type', str(object.type) || 'Opaque');
  w.line(0, '');
  w.line(0, 'Data');
  w.line(0, '====');
  for (const [key, value] of Object.entries(rec(object.data))) w.field(0, key, `${Buffer.from(str(value), 'base64').length} bytes`);
};

const namespace: Describer = (object, w) => {
  w.field(0, 'Status', str(at(object.status, 'phase')) || 'Active');
};

/** Unknown kinds: spec and status as indented `key: value` lines. */
const describeGeneric: Describer = (object, w) => {
  for (const [key, value] of Object.entries(object)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'metadata') continue;
    walk(key, value, 0, w);
  }
};

function walk(label: string, value: unknown, level: number, w: DescribeWriter): void {
  if (isRecord(value)) {
    w.line(level, `${label}:`);
    for (const [key, inner] of Object.entries(value)) walk(key, inner, level + 1, w);
  } else if (Array.isArray(value)) {
    if (value.every((item) => !isRecord(item) && !Array.isArray(item))) return w.field(level, label, value.map(String).join(', '));
    w.line(level, `${label}:`);
    value.forEach((item, index) => walk(`[${index}]`, item, level + 1, w));
  } else {
    w.field(level, label, value === null || value === undefined ? '<none>' : String(value));
  }
}

const DESCRIBERS: Record<string, Describer> = {
  Deployment: workload,
  ReplicaSet: workload,
  StatefulSet: workload,
  DaemonSet: workload,
  Pod: pod,
  Service: service,
  Node: node,
  ConfigMap: configMap,
  Secret: secret,
  Namespace: namespace,
};

/** kubectl's Events table: TYPE REASON AGE FROM MESSAGE, oldest first. */
export function describeEvents(events: KubeObject[], now: Date, w: DescribeWriter): void {
  const when = (event: KubeObject): string => str(event.lastTimestamp) || str(event.eventTime) || str(event.firstTimestamp) || str(event.metadata.creationTimestamp);
  const sorted = [...events].sort((a, b) => (when(a) < when(b) ? -1 : when(a) > when(b) ? 1 : 0));
  w.table(0, 'Events', ['Type', 'Reason', 'Age', 'From', 'Message'], sorted.map((event) => {
    const count = int(event.count, 1);
    const first = str(event.firstTimestamp) || when(event);
    const age = count > 1 ? `${ageSince(when(event), now)} (x${count} over ${ageSince(first, now)})` : ageSince(when(event), now);
    const from = str(at(event.source, 'component')) || str(event.reportingComponent);
    return [str(event.type), str(event.reason), age, from, str(event.message).trim()];
  }));
}
