import t from 'tap';
import { resolveResource } from '../../../src/api/resources.js';
import { printTable, toTable } from '../../../src/api/tables/index.js';
import type { KubeObject } from '../../../src/api/types.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (seconds: number): string => new Date(now.getTime() - seconds * 1000).toISOString();
const cellsOf = (resource: string, object: KubeObject): unknown[] =>
  toTable(resolveResource(resource)!, [object], { now }).rows[0]!.cells;
const service = (name: string, spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default', creationTimestamp: ago(3600) },
  spec,
  status,
});

const nodePort = service('web', {
  type: 'NodePort',
  clusterIP: '10.96.0.10',
  clusterIPs: ['10.96.0.10'],
  selector: { tier: 'fe', app: 'web' },
  ports: [
    { name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' },
    { name: 'dns', port: 53, nodePort: 30053, protocol: 'UDP' },
  ],
});

t.test('a NodePort service', async (t) => {
  t.same(cellsOf('svc', nodePort), ['web', 'NodePort', '10.96.0.10', '<none>', '80:30080/TCP,53:30053/UDP', '60m', 'app=web,tier=fe']);
});

t.test('ClusterIP, headless, LoadBalancer and ExternalName services', async (t) => {
  const clusterIP = service('api', { clusterIP: '10.96.0.11', ports: [{ port: 8080 }] });
  t.same(cellsOf('svc', clusterIP).slice(1, 5), ['ClusterIP', '10.96.0.11', '<none>', '8080/TCP'], 'type and protocol default');
  const headless = service('db', { type: 'ClusterIP', clusterIP: 'None', externalIPs: ['192.0.2.1'] });
  t.same(cellsOf('svc', headless).slice(1, 5), ['ClusterIP', 'None', '192.0.2.1', '<none>']);
  const pending = service('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.12', ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }] });
  t.equal(cellsOf('svc', pending)[3], '<pending>');
  const balanced = service(
    'lb',
    { type: 'LoadBalancer', externalIPs: ['192.0.2.9'] },
    { loadBalancer: { ingress: [{ ip: '203.0.113.7' }, { hostname: 'lb.example.com' }, { ip: '203.0.113.7' }] } },
  );
  t.equal(cellsOf('svc', balanced)[3], '203.0.113.7,lb.example.com,192.0.2.9');
  const external = service('ext', { type: 'ExternalName', externalName: 'db.example.com' });
  t.same(cellsOf('svc', external).slice(1, 6), ['ExternalName', '<none>', 'db.example.com', '<none>', '60m']);
});

t.test('kubectl get svc -o wide', async (t) => {
  const table = toTable(resolveResource('svc')!, [nodePort], { now });
  t.equal(
    printTable(table, { wide: true }),
    [
      'NAME   TYPE       CLUSTER-IP   EXTERNAL-IP   PORT(S)                     AGE   SELECTOR',
      'web    NodePort   10.96.0.10   <none>        80:30080/TCP,53:30053/UDP   60m   app=web,tier=fe',
      '',
    ].join('\n'),
  );
});

t.test('endpoints list the first three addresses, then a count', async (t) => {
  const endpoints = (subsets: unknown): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'web', creationTimestamp: ago(30) },
    subsets,
  });
  t.same(cellsOf('ep', endpoints(undefined)), ['web', '<none>', '30s']);
  t.equal(cellsOf('ep', endpoints([{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 8080 }] }]))[1], '127.0.0.1:8080');
  const many = [
    { addresses: [{ ip: '127.0.0.1' }, { ip: '127.0.0.2' }], ports: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090 }] },
    { addresses: [{ ip: '::1' }] },
  ];
  t.equal(cellsOf('ep', endpoints(many))[1], '127.0.0.1:8080,127.0.0.2:8080,127.0.0.1:9090 + 2 more...');
  t.equal(cellsOf('ep', endpoints([{ addresses: [{ ip: '::1' }], ports: [{ port: 80 }] }]))[1], '[::1]:80');
  t.equal(cellsOf('ep', endpoints([{ notReadyAddresses: [{ ip: '127.0.0.1' }] }]))[1], '');
});

t.test('ingresses: class, hosts, address, ports', async (t) => {
  const ingress = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', creationTimestamp: ago(86400) },
    spec,
    status,
  });
  t.same(cellsOf('ing', ingress({})), ['web', '<none>', '*', '', '80', '24h']);
  const full = ingress(
    { ingressClassName: 'pm8s', rules: [{ host: 'a.example' }, { host: 'b.example' }], tls: [{ hosts: ['a.example'] }] },
    { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } },
  );
  t.same(cellsOf('ing', full), ['web', 'pm8s', 'a.example,b.example', '127.0.0.1', '80, 443', '24h']);
  const hosts = (...names: string[]): unknown => ({ rules: names.map((host) => ({ host })) });
  t.equal(cellsOf('ing', ingress(hosts('a', '', 'b', 'c') as Record<string, unknown>))[2], 'a,b,c');
  t.equal(cellsOf('ing', ingress(hosts('a', 'b', 'c', 'd', '') as Record<string, unknown>))[2], 'a,b,c + 2 more...');
});
