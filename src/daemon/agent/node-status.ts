/**
 * The Node object an agent registers and the status it reports: capacity and allocatable (cpu
 * cores, memory, pods), addresses, the well-known labels, nodeInfo, the port of its node API, and
 * conditions — Kubernetes' four plus `LimitsEnforced`, which says whether pod limits hold here.
 */
import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import type { CgroupDriver } from '../../runtime/cgroups/cgroup-driver.js';
import { NODE_API_CA_ANNOTATION } from '../../api/well-known.js';
import { rfc3339 } from '../../api/meta.js';

export interface NodeDescription {
  name: string;
  /** The address the node's pods and node API are reached at. */
  nodeIp: string;
  /** The node API's port (the kubelet's 10250). */
  port: number;
  /** PEM of the CA that signed the node API's certificate; the server pins it. */
  caPem: string;
  maxPods: number;
  version: string;
  driver: Pick<CgroupDriver, 'kind' | 'enforced' | 'reason'>;
  labels?: Record<string, string>;
}


export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastHeartbeatTime: string;
  lastTransitionTime: string;
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function nodeArch(): string {
  return ARCH[process.arch] ?? process.arch;
}

/** The Node object to create (metadata and spec). */
export function nodeObject(description: NodeDescription): { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec: Record<string, unknown> } {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: description.name,
      labels: nodeLabels(description),
      annotations: { [NODE_API_CA_ANNOTATION]: Buffer.from(description.caPem).toString('base64') },
    },
    spec: {},
  };
}

function nodeLabels(description: NodeDescription): Record<string, string> {
  return {
    'kubernetes.io/hostname': description.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': nodeArch(),
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': nodeArch(),
    ...description.labels,
  };
}

/** The status the agent reports; `previous` conditions keep their lastTransitionTime while unchanged. */
/** What this machine offers pods (capacity = allocatable: nothing is reserved for the system yet). */
export function nodeCapacity(maxPods: number): Record<string, string> {
  return {
    cpu: String(os.availableParallelism()),
    memory: `${Math.floor(os.totalmem() / 1024)}Ki`,
    pods: String(maxPods),
    'ephemeral-storage': `${Math.floor(diskBytes() / 1024)}Ki`,
  };
}

export function nodeStatus(description: NodeDescription, previous: NodeCondition[] = [], now = new Date()): Record<string, unknown> {
  const capacity = nodeCapacity(description.maxPods);
  const at = rfc3339(now);
  const condition = (type: string, status: NodeCondition['status'], reason: string, message: string): NodeCondition => {
    const before = previous.find((old) => old.type === type);
    return { type, status, reason, message, lastHeartbeatTime: at, lastTransitionTime: before !== undefined && before.status === status ? before.lastTransitionTime : at };
  };
  const { driver } = description;
  return {
    capacity,
    allocatable: capacity,
    conditions: [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      driver.enforced
        ? condition('LimitsEnforced', 'True', 'CgroupsAvailable', `pod limits are enforced with cgroup driver ${driver.kind}`)
        : condition('LimitsEnforced', 'False', 'CgroupsUnavailable', `pod limits are NOT enforced: ${driver.reason ?? 'no writable cgroups'}`),
    ],
    addresses: [
      { type: 'InternalIP', address: description.nodeIp },
      { type: 'Hostname', address: os.hostname() },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: description.port } },
    nodeInfo: {
      machineID: readMachineId(),
      systemUUID: '',
      bootID: readBootId(),
      kernelVersion: os.release(),
      osImage: osImage(),
      containerRuntimeVersion: `pm8s-process://${description.version}`,
      kubeletVersion: `v1.32.0-pm8s.${description.version}`,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: nodeArch(),
    },
  };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

function readMachineId(): string {
  return readText('/etc/machine-id');
}

function readBootId(): string {
  return readText('/proc/sys/kernel/random/boot_id');
}

function osImage(): string {
  const release = readText('/etc/os-release');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release);
  return pretty?.[1] ?? `${os.type()} ${os.release()}`;
}

function diskBytes(): number {
  try {
    const stats = statfsSync('/');
    return stats.blocks * stats.bsize;
  } catch {
    return 0;
  }
}
