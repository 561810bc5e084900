import t from 'tap';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveResource } from '../../src/api/resources.js';
import { deploymentYaml, pm8s, startTestServer } from '../helpers/cli.js';

const deployments = resolveResource('deployments')!;
const events = resolveResource('events')!;
const configMaps = resolveResource('configmaps')!;

t.test('describe a Deployment shows its fields and the events about it', async (t) => {
  const server = await startTestServer(t);
  const file = path.join(t.testdir(), 'web.yaml');
  await writeFile(file, deploymentYaml('web', { replicas: 3 }));
  t.equal((await pm8s(server, ['apply', '-f', file])).code, 0);
  const web = await server.api.get(deployments, 'default', 'web');

  const quiet = await pm8s(server, ['describe', 'deploy', 'web']);
  t.equal(quiet.code, 0);
  t.match(quiet.stdout, /^Name:\s+web\nNamespace:\s+default\nLabels:\s+app=web\nAnnotations:\s+<none>\nCreationTimestamp:\s+\w{3}, \d{2} \w{3} \d{4} [\d:]{8} \+0000\n/);
  t.match(quiet.stdout, /\nReplicas:\s+3 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable\n/);
  t.match(quiet.stdout, /\nStrategyType:\s+RollingUpdate\n/);
  t.match(quiet.stdout, /\n    main:\n\s+Port:\s+8080\/TCP\n\s+Command:\n\s+node\n\s+server\.js\n/);
  t.match(quiet.stdout, /\n\s+Environment:\n\s+GREETING:\s+hello\n/);
  t.match(quiet.stdout, /\nEvents:\s+<none>\n$/);
  t.notMatch(quiet.stdout, 'last-applied-configuration');

  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const involvedObject = { kind: 'Deployment', apiVersion: 'apps/v1', name: 'web', namespace: 'default', uid: web.metadata.uid };
  await server.api.create(events, 'default', {
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.1' }, involvedObject,
    reason: 'ScalingReplicaSet', message: 'Scaled up replica set web-abc to 3', type: 'Normal', source: { component: 'deployment-controller' },
    firstTimestamp: now, lastTimestamp: now, count: 1,
  });
  // An event about another object with the same name (other uid) is not shown.
  await server.api.create(events, 'default', {
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.2' }, involvedObject: { ...involvedObject, uid: 'someone-else' },
    reason: 'Unrelated', message: 'not me', type: 'Warning', source: { component: 'x' }, firstTimestamp: now, lastTimestamp: now,
  });
  const described = await pm8s(server, ['describe', 'deployment/web']);
  t.match(described.stdout, /\nEvents:\n  Type\s+Reason\s+Age\s+From\s+Message\n  ----\s+------\s+---\s+----\s+-------\n  Normal\s+ScalingReplicaSet\s+\d+s\s+deployment-controller\s+Scaled up replica set web-abc to 3\n$/);
  t.notMatch(described.stdout, 'Unrelated');
});

t.test('describe of other kinds, and of missing objects', async (t) => {
  const server = await startTestServer(t);
  await server.api.create(configMaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { 'app.conf': 'port=80' } });
  const cm = await pm8s(server, ['describe', 'cm', 'settings']);
  t.match(cm.stdout, /\nData\n====\napp\.conf:\n----\nport=80\n/);

  const lease = await pm8s(server, ['describe', 'ns', 'default']);
  t.match(lease.stdout, /^Name:\s+default\nLabels:/);
  t.match(lease.stdout, /\nStatus:\s+Active\n/);

  const missing = await pm8s(server, ['describe', 'cm', 'nope']);
  t.same(missing, { code: 1, stdout: '', stderr: 'Error from server (NotFound): configmaps "nope" not found\n' });
});
