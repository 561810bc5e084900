/**
 * `metrics.k8s.io/v1beta1` on a real server with a real agent: metrics-server's shapes, selectors,
 * 404s for what has no metrics, and a Ready node whose agent does not answer left out rather
 * than failing the whole list.
 */
import t from 'tap';
import { resolveResource } from '../../../../src/api/resources.js';
import { NODE_API_CA_ANNOTATION } from '../../../../src/api/well-known.js';
import { createStatsHandler } from '../../../../src/daemon/agent/node-api-stats.js';
import { phaseOf, startAgentCluster } from '../../../helpers/agent-cluster.js';
import { apiRequest, closeConnection, connectionFromKubeconfig } from '../../../helpers/api-request.js';
import { freePort } from '../../../helpers/runner.js';

const nodes = resolveResource('nodes')!;
const pods = resolveResource('pods')!;
const BASE = '/apis/metrics.k8s.io/v1beta1';

t.test('metrics.k8s.io from the agents', async (t) => {
  const cluster = await startAgentCluster(t, { agent: { handlers: { stats: createStatsHandler() } } });
  const connection = await connectionFromKubeconfig(cluster.server.kubeconfigPath);
  t.teardown(() => closeConnection(connection));
  await cluster.createPod('busy', { containers: [{ name: 'spin', command: ['sh', '-c', 'while :; do :; done'] }] });
  await cluster.client.patch(pods, 'default', 'busy', 'application/merge-patch+json', { metadata: { labels: { app: 'busy' } } });
  await cluster.waitForPod('busy', (pod) => phaseOf(pod) === 'Running', 'Running');

  // A second node that says it is Ready, but whose agent is not there.
  const real = await cluster.client.get(nodes, undefined, cluster.nodeName);
  const deadPort = await freePort();
  await cluster.client.create(nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'dead', annotations: { [NODE_API_CA_ANNOTATION]: real.metadata.annotations![NODE_API_CA_ANNOTATION]! } } });
  const dead = await cluster.client.get(nodes, undefined, 'dead');
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await cluster.client.update(nodes, undefined, {
    ...dead,
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'test', lastHeartbeatTime: now, lastTransitionTime: now }],
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      daemonEndpoints: { kubeletEndpoint: { Port: deadPort } },
      allocatable: { cpu: '1', memory: '1Gi', pods: '10' },
      capacity: { cpu: '1', memory: '1Gi', pods: '10' },
    },
  }, { subresource: 'status' });
  await cluster.client.create(pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stranded', namespace: 'default' }, spec: { nodeName: 'dead', containers: [{ name: 'main', command: ['true'] }] } });

  const list = await apiRequest(connection, 'GET', `${BASE}/namespaces/default/pods`);
  t.equal(list.status, 200);
  // CPU is a canonical quantity: nanocores that divide by 1000 print as microcores ("1757293u"), as in Kubernetes; memory is BinarySI in the same way.
  t.match(list.json, {
    kind: 'PodMetricsList',
    apiVersion: 'metrics.k8s.io/v1beta1',
    items: [{ metadata: { name: 'busy', namespace: 'default', creationTimestamp: /Z$/, labels: { app: 'busy' } }, timestamp: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, window: /^\d+(\.\d+)?m?s$/, containers: [{ name: 'spin', usage: { cpu: /^\d+[num]?$/, memory: /^\d+(Ki|Mi|Gi)?$/ } }] }],
  });
  t.equal((list.json as { items: unknown[] }).items.length, 1, 'the pod on the silent node is left out, the rest still answers');

  t.match((await apiRequest(connection, 'GET', `${BASE}/pods?labelSelector=app%3Dbusy`)).json, { items: [{ metadata: { name: 'busy' } }] });
  t.same((await apiRequest(connection, 'GET', `${BASE}/pods?labelSelector=app%3Dother`)).json, { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items: [] });
  t.match((await apiRequest(connection, 'GET', `${BASE}/namespaces/default/pods/busy`)).json, { kind: 'PodMetrics', metadata: { name: 'busy' }, containers: [{ name: 'spin' }] });
  t.match(await apiRequest(connection, 'GET', `${BASE}/namespaces/default/pods/stranded`), { status: 404, json: { kind: 'Status', reason: 'NotFound', message: 'podmetrics.metrics.k8s.io "default/stranded" not found' } });
  t.match(await apiRequest(connection, 'GET', `${BASE}/namespaces/default/pods/ghost`), { status: 404 });

  const nodeList = await apiRequest(connection, 'GET', `${BASE}/nodes`);
  t.match(nodeList.json, { kind: 'NodeMetricsList', items: [{ metadata: { name: cluster.nodeName }, usage: { cpu: /^\d+[num]?$/, memory: /^\d+(Ki|Mi|Gi)?$/ } }] });
  t.equal((nodeList.json as { items: unknown[] }).items.length, 1, 'the silent node has no metrics');
  t.match((await apiRequest(connection, 'GET', `${BASE}/nodes/${cluster.nodeName}`)).json, { kind: 'NodeMetrics', metadata: { name: cluster.nodeName } });
  t.match(await apiRequest(connection, 'GET', `${BASE}/nodes/dead`), { status: 404 });

  t.match((await apiRequest(connection, 'GET', BASE)).json, { kind: 'APIResourceList', groupVersion: 'metrics.k8s.io/v1beta1' });
  t.match(await apiRequest(connection, 'GET', `${BASE}/nodes`, { authorization: null }), { status: 401 });
  t.match(await apiRequest(connection, 'POST', `${BASE}/nodes`, { body: {} }), { status: 405 });
  t.match(await apiRequest(connection, 'GET', `${BASE}/deployments`), { status: 404 });
});
