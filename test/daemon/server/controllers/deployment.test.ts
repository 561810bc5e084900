import t from 'tap';
import type { Test } from 'tap';
import type { Deployment } from '../../../../src/api/kinds/deployment.js';
import type { Pod } from '../../../../src/api/kinds/pod.js';
import type { ReplicaSet } from '../../../../src/api/kinds/replicaset.js';
import { clone } from '../../../../src/api/meta.js';
import { resolveResource } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import type { InProcessClient } from '../../../../src/client/in-process-client.js';
import { computeHash } from '../../../../src/daemon/server/controllers/deployment-util.js';
import type { SimulatedCluster } from '../../../../src/testing/simulated-nodes.js';
import { startTestCluster } from '../../../helpers/cluster.js';
import { waitFor } from '../../../helpers/wait.js';

const pods = resolveResource('pods')!;
const replicaSets = resolveResource('replicasets')!;
const deployments = resolveResource('deployments')!;
const events = resolveResource('events')!;

const NODES = { a: {}, b: {}, c: {} };
const REVISION = 'deployment.kubernetes.io/revision';

function deploymentObject(name: string, replicas: number, spec: Record<string, unknown> = {}, version = 'v1'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, version } }, spec: { containers: [{ name: 'main', command: ['sleep', '1000'] }] } },
      ...spec,
    },
  };
}

const isReady = (pod: Pod): boolean => pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;
const isLive = (pod: Pod): boolean => !pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
const condition = (deployment: Deployment, type: string) => deployment.status?.conditions?.find((candidate) => candidate.type === type);

const getDeployment = async (client: InProcessClient, name: string): Promise<Deployment> => (await client.get(deployments, 'default', name)) as Deployment;

async function setsOf(client: InProcessClient, app: string): Promise<ReplicaSet[]> {
  return (await client.list(replicaSets, 'default', { labelSelector: `app=${app}` })).items as ReplicaSet[];
}

/** What `kubectl rollout status` waits for: this generation observed, every replica updated and available. */
async function rolledOut(client: InProcessClient, name: string, timeout = 20_000): Promise<Deployment> {
  return waitFor(
    async () => {
      const deployment = await getDeployment(client, name);
      const status = deployment.status ?? {};
      const replicas = deployment.spec.replicas ?? 1;
      const done =
        status.observedGeneration === deployment.metadata.generation &&
        status.updatedReplicas === replicas &&
        status.replicas === replicas &&
        status.readyReplicas === replicas &&
        status.availableReplicas === replicas &&
        condition(deployment, 'Progressing')?.reason === 'NewReplicaSetAvailable';
      return done ? deployment : undefined;
    },
    { what: `${name} rolled out`, timeout },
  );
}

async function editTemplate(client: InProcessClient, name: string, change: (deployment: Deployment) => void): Promise<void> {
  for (;;) {
    const deployment = clone(await getDeployment(client, name));
    change(deployment);
    try {
      await client.update(deployments, 'default', deployment);
      return;
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
    }
  }
}

/** Watches `resource` objects labelled app=`app` and calls `check` with all of them after every event. */
async function watchAll<T extends KubeObject>(t: Test, client: InProcessClient, resource: typeof pods, app: string, check: (all: T[]) => void): Promise<{ events: () => number }> {
  const seen = new Map<string, T>();
  let count = 0;
  const handle = await client.watch(resource, 'default', { labelSelector: `app=${app}` }, (event) => {
    const object = event.object as T;
    if (event.type === 'DELETED') seen.delete(object.metadata.name ?? '');
    else if (event.type === 'ADDED' || event.type === 'MODIFIED') seen.set(object.metadata.name ?? '', object);
    else return;
    count++;
    check([...seen.values()]);
  });
  t.teardown(() => handle.stop());
  return { events: () => count };
}

/** A readiness probe that passes `delayMs` after a pod starts running (pods start unready: `ready: () => false`). */
async function readyAfter(t: Test, client: InProcessClient, nodes: SimulatedCluster, delayMs: number, when: (pod: Pod) => boolean = () => true): Promise<void> {
  const timers = new Set<NodeJS.Timeout>();
  const scheduled = new Set<string>();
  t.teardown(() => timers.forEach(clearTimeout));
  const handle = await client.watch(pods, 'default', {}, (event) => {
    const pod = event.object as Pod;
    const name = pod.metadata.name ?? '';
    if (event.type !== 'MODIFIED' || pod.status?.phase !== 'Running' || isReady(pod) || !isLive(pod) || scheduled.has(name) || !when(pod)) return;
    scheduled.add(name);
    const timer = setTimeout(() => {
      timers.delete(timer);
      nodes.setReady('default', name, true).catch(() => undefined);
    }, delayMs);
    timers.add(timer);
  });
  t.teardown(() => handle.stop());
}

t.test('10 replicas on 3 nodes: bound and spread, named by template hash, annotated; scale to 0 and back', async (t) => {
  const { client } = await startTestCluster(t, { nodes: NODES });
  const created = (await client.create(deployments, 'default', deploymentObject('web', 10))) as Deployment;
  const deployment = await rolledOut(client, 'web');
  const running = (await client.list(pods, 'default', { labelSelector: 'app=web' })).items as Pod[];
  t.equal(running.length, 10);
  const perNode = Object.keys(NODES).map((node) => running.filter((pod) => pod.spec.nodeName === node).length);
  t.ok(Math.max(...perNode) - Math.min(...perNode) <= 1, `spread 4/3/3 or better: ${perNode.join('/')}`);

  const [set] = await setsOf(client, 'web');
  const hash = computeHash(created.spec.template);
  t.equal(set?.metadata.name, `web-${hash}`);
  t.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  t.same(set?.spec.selector.matchLabels, { app: 'web', 'pod-template-hash': hash });
  t.equal(set?.spec.template.metadata?.labels?.['pod-template-hash'], hash);
  t.ok(running.every((pod) => pod.metadata.labels?.['pod-template-hash'] === hash));
  t.match(set?.metadata.annotations, { [REVISION]: '1', 'deployment.kubernetes.io/desired-replicas': '10', 'deployment.kubernetes.io/max-replicas': '13' });
  t.same(set?.metadata.ownerReferences?.map((ref) => [ref.kind, ref.uid, ref.controller]), [['Deployment', created.metadata.uid, true]]);
  t.equal(deployment.metadata.annotations?.[REVISION], '1');
  t.match(condition(deployment, 'Available'), { status: 'True', reason: 'MinimumReplicasAvailable' });
  t.equal(deployment.status?.unavailableReplicas, 0);

  await client.patch(deployments, 'default', 'web', 'application/merge-patch+json', { spec: { replicas: 0 } });
  await rolledOut(client, 'web');
  await waitFor(async () => (await client.list(pods, 'default', { labelSelector: 'app=web' })).items.length === 0, { what: 'no pods' });
  await client.patch(deployments, 'default', 'web', 'application/merge-patch+json', { spec: { replicas: 10 } });
  await rolledOut(client, 'web');
  t.equal((await setsOf(client, 'web')).length, 1, 'scaling makes no new ReplicaSet');
  const scaling = (await client.list(events, 'default')).items.filter((event) => event.reason === 'ScalingReplicaSet').map((event) => event.message);
  t.ok(scaling.includes(`Scaled up replica set web-${hash} to 10`), 'ScalingReplicaSet up');
  t.ok(scaling.includes(`Scaled down replica set web-${hash} to 0`), 'ScalingReplicaSet down');
});

const ROLLING_CASES = [
  { replicas: 8, maxSurge: '25%', maxUnavailable: '25%', surge: 2, unavailable: 2 },
  { replicas: 5, maxSurge: 0, maxUnavailable: 1, surge: 0, unavailable: 1 },
  { replicas: 5, maxSurge: '30%', maxUnavailable: '30%', surge: 2, unavailable: 1 },
];

for (const { replicas, maxSurge, maxUnavailable, surge, unavailable } of ROLLING_CASES) {
  t.test(`a template edit rolls out step by step within maxSurge ${maxSurge} and maxUnavailable ${maxUnavailable} of ${replicas} at every observed state`, async (t) => {
    const { client, nodes } = await startTestCluster(t, { nodes: NODES, simulated: { ready: () => false } });
    await readyAfter(t, client, nodes, 100);
    const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } };
    await client.create(deployments, 'default', deploymentObject('roll', replicas, { strategy }));
    await rolledOut(client, 'roll');

    const violations: string[] = [];
    let maxLive = 0;
    let minAvailable = replicas;
    // The watch first replays the current pods one ADDED at a time; judge only the states after that.
    let armed = false;
    const podWatch = await watchAll<Pod>(t, client, pods, 'roll', (all) => {
      if (!armed) return;
      const live = all.filter(isLive);
      const available = live.filter(isReady).length;
      maxLive = Math.max(maxLive, live.length);
      minAvailable = Math.min(minAvailable, available);
      if (live.length > replicas + surge) violations.push(`${live.length} pods > ${replicas} + maxSurge ${surge}`);
      if (available < replicas - unavailable) violations.push(`${available} available < ${replicas} - maxUnavailable ${unavailable}`);
    });
    await watchAll<ReplicaSet>(t, client, replicaSets, 'roll', (all) => {
      const total = all.reduce((sum, set) => sum + (set.spec.replicas ?? 0), 0);
      if (total > replicas + surge) violations.push(`ReplicaSets ask for ${total} > ${replicas} + ${surge}`);
    });
    await waitFor(() => podWatch.events() >= replicas, { what: 'the watch replaying the pods' });
    armed = true;

    await editTemplate(client, 'roll', (deployment) => {
      deployment.spec.template.metadata!.labels!.version = 'v2';
    });
    const done = await rolledOut(client, 'roll');
    t.same(violations, [], 'no observed state broke the bounds');
    if (surge > 0) t.ok(maxLive > replicas, `the rollout surged (up to ${maxLive} pods)`);
    t.ok(minAvailable < replicas, `the rollout used its unavailability budget (down to ${minAvailable} available)`);
    t.ok(podWatch.events() > 4 * replicas, `the rollout went step by step (${podWatch.events()} pod events)`);
    const live = ((await client.list(pods, 'default', { labelSelector: 'app=roll' })).items as Pod[]).filter(isLive);
    t.ok(live.length === replicas && live.every((pod) => pod.metadata.labels?.version === 'v2'), 'only new pods remain');
    t.equal(done.metadata.annotations?.[REVISION], '2');
    t.equal(done.status?.observedGeneration, done.metadata.generation);
    const sets = await setsOf(client, 'roll');
    t.same(sets.map((set) => set.spec.replicas).sort(), [0, replicas], 'the old set is kept, scaled to 0');
  });
}

t.test('Recreate never runs old and new pods at once', async (t) => {
  const { client, nodes } = await startTestCluster(t, { nodes: NODES, simulated: { ready: () => false } });
  await readyAfter(t, client, nodes, 50);
  await client.create(deployments, 'default', deploymentObject('recreate', 4, { strategy: { type: 'Recreate' } }));
  await rolledOut(client, 'recreate');
  const mixed: string[] = [];
  await watchAll<Pod>(t, client, pods, 'recreate', (all) => {
    // Terminating pods count too: an old process may still run until its deletion is confirmed.
    const versions = new Set(all.filter((pod) => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed').map((pod) => pod.metadata.labels?.version));
    if (versions.size > 1) mixed.push([...versions].join('+'));
  });
  await editTemplate(client, 'recreate', (deployment) => {
    deployment.spec.template.metadata!.labels!.version = 'v2';
  });
  await rolledOut(client, 'recreate');
  t.same(mixed, [], 'old and new pods never coexisted');
  const live = ((await client.list(pods, 'default', { labelSelector: 'app=recreate' })).items as Pod[]).filter(isLive);
  t.same(live.map((pod) => pod.metadata.labels?.version), ['v2', 'v2', 'v2', 'v2']);
});

t.test('rollback by copying the old template re-uses the old ReplicaSet with a new revision; restart makes a new one; history is pruned', async (t) => {
  const { client } = await startTestCluster(t, { nodes: NODES });
  await client.create(deployments, 'default', deploymentObject('undo', 3, { revisionHistoryLimit: 2 }));
  await rolledOut(client, 'undo');
  const [first] = await setsOf(client, 'undo');
  await editTemplate(client, 'undo', (deployment) => {
    deployment.spec.template.metadata!.labels!.version = 'v2';
  });
  await rolledOut(client, 'undo');
  t.equal((await setsOf(client, 'undo')).length, 2);

  // What `pm8s rollout undo` does: the old set's template, less its pod-template-hash, into the Deployment.
  await editTemplate(client, 'undo', (deployment) => {
    const template = clone(first!.spec.template);
    delete template.metadata!.labels!['pod-template-hash'];
    deployment.spec.template = template;
  });
  const undone = await rolledOut(client, 'undo');
  const sets = await setsOf(client, 'undo');
  t.equal(sets.length, 2, 'no new ReplicaSet');
  const back = sets.find((set) => set.metadata.uid === first!.metadata.uid)!;
  t.equal(back.spec.replicas, 3, 'the first set runs again');
  t.equal(back.metadata.annotations?.[REVISION], '3');
  t.equal(back.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1');
  t.equal(undone.metadata.annotations?.[REVISION], '3');
  t.equal(computeHash(undone.spec.template), first!.metadata.labels?.['pod-template-hash'], 'the template hashes back to the old name');

  // `kubectl rollout restart`: a template annotation, so a new set; three of them push history past 2.
  for (const at of ['2024-01-01T00:00:00Z', '2024-01-01T00:00:01Z', '2024-01-01T00:00:02Z']) {
    await editTemplate(client, 'undo', (deployment) => {
      deployment.spec.template.metadata!.annotations = { 'kubectl.kubernetes.io/restartedAt': at };
    });
    await rolledOut(client, 'undo');
  }
  const pruned = await waitFor(async () => {
    const current = await setsOf(client, 'undo');
    return current.length === 3 ? current : undefined;
  }, { what: 'history pruned to 2 old sets' });
  t.same(pruned.map((set) => Number(set.metadata.annotations?.[REVISION])).sort(), [4, 5, 6], 'the oldest revisions went');
  t.equal((await getDeployment(client, 'undo')).metadata.annotations?.[REVISION], '6');
});

t.test('a paused Deployment does not roll but still scales, proportionally across its sets', async (t) => {
  const { client } = await startTestCluster(t, { nodes: NODES, simulated: { ready: (pod) => pod.metadata.labels?.version !== 'v2' } });
  const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
  await client.create(deployments, 'default', deploymentObject('pause', 4, { strategy }));
  await rolledOut(client, 'pause');
  // v2 pods never become ready: the rollout stops at one surge pod.
  await editTemplate(client, 'pause', (deployment) => {
    deployment.spec.template.metadata!.labels!.version = 'v2';
  });
  await waitFor(async () => (await setsOf(client, 'pause')).map((set) => set.spec.replicas).sort().join() === '1,4', { what: 'old 4, new 1' });
  await client.patch(deployments, 'default', 'pause', 'application/merge-patch+json', { spec: { paused: true } });
  const paused = await waitFor(async () => {
    const deployment = await getDeployment(client, 'pause');
    return condition(deployment, 'Progressing')?.reason === 'DeploymentPaused' ? deployment : undefined;
  }, { what: 'Progressing DeploymentPaused' });
  t.equal(condition(paused, 'Progressing')?.status, 'Unknown');

  await client.patch(deployments, 'default', 'pause', 'application/merge-patch+json', { spec: { replicas: 8 } });
  const scaled = await waitFor(async () => {
    const sizes = (await setsOf(client, 'pause')).map((set) => [set.spec.template.metadata?.labels?.version, set.spec.replicas]);
    return sizes.length === 2 && sizes.every(([version, size]) => (version === 'v1' ? size === 7 : size === 2)) ? sizes : undefined;
  }, { what: 'proportional scaling to 7 old + 2 new (8 + maxSurge 1)' });
  t.ok(scaled);
  // A template edit while paused starts nothing.
  await editTemplate(client, 'pause', (deployment) => {
    deployment.spec.template.metadata!.labels!.version = 'v3';
  });
  await waitFor(async () => (await getDeployment(client, 'pause')).status?.observedGeneration === (await getDeployment(client, 'pause')).metadata.generation, { what: 'edit observed' });
  t.equal((await setsOf(client, 'pause')).length, 2, 'no v3 ReplicaSet while paused');

  await client.patch(deployments, 'default', 'pause', 'application/merge-patch+json', { spec: { paused: false } });
  await waitFor(async () => (await setsOf(client, 'pause')).some((set) => set.spec.template.metadata?.labels?.version === 'v3'), { what: 'resumed rollout creates v3' });
  await rolledOut(client, 'pause');
});

t.test('pods that never become ready exceed the progress deadline', async (t) => {
  const { client } = await startTestCluster(t, { nodes: NODES, simulated: { ready: () => false } });
  await client.create(deployments, 'default', deploymentObject('stuck', 2, { progressDeadlineSeconds: 1 }));
  const stuck = await waitFor(async () => {
    const deployment = await getDeployment(client, 'stuck');
    return condition(deployment, 'Progressing')?.reason === 'ProgressDeadlineExceeded' ? deployment : undefined;
  }, { what: 'ProgressDeadlineExceeded', timeout: 15_000 });
  t.match(condition(stuck, 'Progressing'), { status: 'False', message: /has timed out progressing/ });
  t.match(condition(stuck, 'Available'), { status: 'False', reason: 'MinimumReplicasUnavailable' });
  t.equal(stuck.status?.availableReplicas ?? 0, 0);
  t.equal(stuck.status?.unavailableReplicas, 2);
});

t.test('a writer updating the same Deployment meanwhile loses nothing and breaks nothing', async (t) => {
  const { client } = await startTestCluster(t, { nodes: NODES });
  await client.create(deployments, 'default', deploymentObject('busy', 6));
  let stop = false;
  let writes = 0;
  const writer = (async () => {
    while (!stop) {
      const deployment = clone(await getDeployment(client, 'busy'));
      deployment.metadata.labels = { ...deployment.metadata.labels, [`writer-${writes}`]: 'yes' };
      deployment.metadata.annotations = { ...deployment.metadata.annotations, 'test/writes': String(writes + 1) };
      try {
        await client.update(deployments, 'default', deployment);
        writes++;
      } catch (error) {
        if ((error as { code?: number }).code !== 409) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  await editTemplate(client, 'busy', (deployment) => {
    deployment.spec.template.metadata!.labels!.version = 'v2';
  });
  await rolledOut(client, 'busy');
  await waitFor(() => writes >= 40, { what: '40 writes' });
  stop = true;
  await writer;
  const final = await rolledOut(client, 'busy');
  const labels = final.metadata.labels ?? {};
  t.equal(Array.from({ length: writes }, (_, index) => labels[`writer-${index}`]).filter((value) => value === 'yes').length, writes, `all ${writes} writer labels are there`);
  t.equal(final.metadata.annotations?.['test/writes'], String(writes));
  t.equal(final.metadata.annotations?.[REVISION], '2', 'and the controller\'s revision too');
  const newSet = (await setsOf(client, 'busy')).find((set) => set.spec.replicas === 6)!;
  await waitFor(async () => ((await client.get(replicaSets, 'default', newSet.metadata.name!)) as ReplicaSet).metadata.annotations?.['test/writes'] === String(writes), {
    what: 'Deployment annotations copied to the new ReplicaSet',
  });
});

t.test('minReadySeconds: ready pods count as available only after it', async (t) => {
  const { client } = await startTestCluster(t, { nodes: NODES });
  await client.create(deployments, 'default', deploymentObject('slow', 2, { minReadySeconds: 1 }));
  const readyNotAvailable = await waitFor(async () => {
    const deployment = await getDeployment(client, 'slow');
    return deployment.status?.readyReplicas === 2 && (deployment.status.availableReplicas ?? 0) < 2 ? deployment : undefined;
  }, { what: 'ready but not yet available' });
  t.equal(condition(readyNotAvailable, 'Progressing')?.status, 'True');
  const done = await rolledOut(client, 'slow');
  t.equal(done.status?.availableReplicas, 2);
  const [set] = await setsOf(client, 'slow');
  t.equal(set?.spec.minReadySeconds, 1, 'the ReplicaSet carries minReadySeconds');
});

t.test('a failing ReplicaSet create is a FailedCreate event, retried with backoff; pod failures surface as ReplicaFailure', async (t) => {
  const { client, server } = await startTestCluster(t, { nodes: NODES });
  const create = server.api.create.bind(server.api);
  let setFailures = 3;
  let podsFail = true;
  server.api.create = async (info, namespace, body, options) => {
    const labels = (body as KubeObject).metadata?.labels;
    if (info.resource === 'replicasets' && labels?.app === 'flaky' && setFailures > 0) {
      setFailures--;
      throw new Error('injected replica set failure');
    }
    if (info.resource === 'pods' && labels?.app === 'flaky' && podsFail) throw new Error('injected pod failure');
    return create(info, namespace, body, options);
  };
  t.teardown(() => {
    server.api.create = create;
  });
  await client.create(deployments, 'default', deploymentObject('flaky', 2));
  const failure = await waitFor(async () => {
    const deployment = await getDeployment(client, 'flaky');
    return condition(deployment, 'ReplicaFailure');
  }, { what: 'ReplicaFailure on the Deployment' });
  t.match(failure, { status: 'True', reason: 'FailedCreate', message: /injected pod failure/ });
  t.equal(setFailures, 0, 'the ReplicaSet create was retried until it worked');
  const failedCreate = (await client.list(events, 'default')).items.find((event) => event.reason === 'FailedCreate' && (event.involvedObject as { kind?: string }).kind === 'Deployment');
  t.match(failedCreate, { type: 'Warning', message: /^Failed to create new replica set "flaky-[a-z0-9]+": injected replica set failure$/ });
  podsFail = false;
  const done = await rolledOut(client, 'flaky');
  t.notOk(condition(done, 'ReplicaFailure'), 'ReplicaFailure goes once pods are made');
});

t.test('adopts an orphan ReplicaSet running its template instead of making a new one', async (t) => {
  const { client } = await startTestCluster(t, { nodes: NODES });
  const template = (deploymentObject('legacy', 2).spec as Deployment['spec']).template;
  const orphan = (await client.create(replicaSets, 'default', {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'legacy-old', namespace: 'default', labels: { app: 'legacy' } },
    spec: { replicas: 2, selector: { matchLabels: { app: 'legacy' } }, template },
  })) as ReplicaSet;
  await waitFor(async () => ((await client.get(replicaSets, 'default', 'legacy-old')) as ReplicaSet).status?.readyReplicas === 2, { what: 'the orphan runs 2 pods' });
  const created = (await client.create(deployments, 'default', deploymentObject('legacy', 3))) as Deployment;
  await rolledOut(client, 'legacy');
  const sets = await setsOf(client, 'legacy');
  t.same(sets.map((set) => set.metadata.name), ['legacy-old'], 'no new ReplicaSet');
  t.equal(sets[0]?.metadata.uid, orphan.metadata.uid);
  t.same(sets[0]?.metadata.ownerReferences?.map((ref) => [ref.uid, ref.controller]), [[created.metadata.uid, true]]);
  t.equal(sets[0]?.spec.replicas, 3);
  t.equal(sets[0]?.metadata.annotations?.[REVISION], '1');
});
