import t from 'tap';
import { resourceForKind } from '../../../src/api/resources.js';
import type { ResourceInfo } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { applyDefaults, validateObject } from '../../../src/api/validation.js';

const infoFor = (apiVersion: string, kind: string): ResourceInfo => resourceForKind(apiVersion, kind)!;
const messagesFor = (value: KubeObject, old?: KubeObject): string[] =>
  validateObject(infoFor(value.apiVersion, value.kind), value, old).map((error) => error.message);
const defaulted = <T extends KubeObject>(value: T): T => {
  applyDefaults(infoFor(value.apiVersion, value.kind), value);
  return value;
};
const service = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec });

t.test('defaults: ClusterIP, sessionAffinity None, TCP, targetPort = port', async (t) => {
  t.match(defaulted(service({ selector: { app: 'web' }, ports: [{ port: 80 }, { name: 'x', port: 81, targetPort: 'http' }] })).spec, {
    type: 'ClusterIP',
    sessionAffinity: 'None',
    internalTrafficPolicy: 'Cluster',
    ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }, { targetPort: 'http' }],
  });
  t.match(defaulted(service({ type: 'NodePort', ports: [{ port: 80 }] })).spec, { externalTrafficPolicy: 'Cluster' });
});

t.test('validation', async (t) => {
  t.same(messagesFor(service({ ports: [] })), ['spec.ports: Required value']);
  t.same(messagesFor(service({ type: 'Magic', ports: [{ port: 80 }] })), ['spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']);
  t.same(messagesFor(service({ ports: [{ port: 0 }, { port: 81, targetPort: 70000 }] })), [
    'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    'spec.ports[1].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    'spec.ports[0].name: Required value',
    'spec.ports[1].name: Required value',
  ]);
  t.same(messagesFor(service({ ports: [{ port: 80 }, { port: 81 }] })), ['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value']);
  t.same(messagesFor(service({ ports: [{ port: 80, nodePort: 30000 }] })), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]);
  t.same(messagesFor(service({ type: 'ExternalName' })), ['spec.externalName: Required value']);
  t.same(messagesFor(service({ clusterIP: 'None', selector: { app: 'db' } })), [], 'headless services need no ports');
  t.same(messagesFor(service({ ports: [{ port: 80, targetPort: 'HTTP' }] })), [
    'spec.ports[0].targetPort: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    'spec.ports[0].targetPort: Invalid value: "HTTP": must contain at least one letter (a-z)',
  ]);
});

t.test('clusterIP is immutable once set', async (t) => {
  const old = service({ clusterIP: '10.0.0.1', ports: [{ port: 80 }] });
  t.same(messagesFor(service({ clusterIP: '10.0.0.2', ports: [{ port: 80 }] }), old), ['spec.clusterIP: Invalid value: "10.0.0.2": field is immutable']);
  t.same(messagesFor(service({ ports: [{ port: 80 }] }), old), [], 'an omitted clusterIP is kept by the server');
});
