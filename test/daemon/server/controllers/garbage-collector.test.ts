import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { ApiError } from '../../../../src/api/errors.js';
import { resolveResource } from '../../../../src/api/resources.js';
import type { ResourceInfo } from '../../../../src/api/resources.js';
import type { KubeObject, OwnerReference } from '../../../../src/api/types.js';
import type { InProcessClient } from '../../../../src/client/in-process-client.js';
import { createControllers } from '../../../../src/daemon/server/controllers/index.js';
import { startTestCluster } from '../../../helpers/cluster.js';
import { waitFor } from '../../../helpers/wait.js';
import { workload } from '../../../helpers/workloads.js';

const pods = resolveResource('pods')!;
const configMaps = resolveResource('configmaps')!;
const deployments = resolveResource('deployments')!;
const replicaSets = resolveResource('replicasets')!;
const nodes = resolveResource('nodes')!;
const leases = resolveResource('leases')!;

/** Whether a Deployment controller makes the ReplicaSets itself; until one is registered the test makes one by hand. */
const deploymentControllerRuns = createControllers().some((controller) => /deployment/i.test(controller.name));

const ownerRef = (owner: KubeObject, options: { controller?: boolean; block?: boolean } = {}): OwnerReference => ({
  apiVersion: owner.apiVersion,
  kind: owner.kind,
  name: owner.metadata.name!,
  uid: owner.metadata.uid!,
  controller: options.controller ?? true,
  blockOwnerDeletion: options.block ?? true,
});

const configMap = (name: string, metadata: Partial<KubeObject['metadata']> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...metadata } });

/** The object, or undefined once it is gone (404). */
async function find(client: InProcessClient, info: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
  try {
    return await client.get(info, namespace, name);
  } catch (error) {
    if ((error as ApiError).code === 404) return undefined;
    throw error;
  }
}

const uidsOf = (objects: KubeObject[]): string[] => objects.map((object) => object.metadata.uid!).sort();

t.test('garbage collector', async (t) => {
  const { client } = await startTestCluster(t, { nodes: { 'node-a': {}, 'node-b': {} } });

  const ownedBy = async (info: ResourceInfo, owners: KubeObject[], app: string) => {
    const uids = new Set(owners.map((owner) => owner.metadata.uid));
    const list = await client.list(info, 'default', { labelSelector: `app=${app}` });
    return list.items.filter((item) => (item.metadata.ownerReferences ?? []).some((reference) => uids.has(reference.uid)));
  };

  /** A Deployment with its ReplicaSet(s) and two running pods, owned all the way down. */
  const deploymentChain = async (name: string) => {
    const deployment = await client.create(deployments, 'default', workload('Deployment', name, { replicas: 2 }));
    if (!deploymentControllerRuns) {
      const replicaSet = workload('ReplicaSet', `${name}-manual`, { replicas: 2 });
      replicaSet.metadata.ownerReferences = [ownerRef(deployment)];
      await client.create(replicaSets, 'default', replicaSet);
    }
    return waitFor(
      async () => {
        const sets = await ownedBy(replicaSets, [deployment], name);
        const running = (await ownedBy(pods, sets, name)).filter((pod) => (pod.status as { phase?: string } | undefined)?.phase === 'Running');
        return sets.length > 0 && running.length >= 2 ? { deployment, sets, pods: running } : undefined;
      },
      { what: `deployment ${name} with running pods` },
    );
  };

  /** A dependent of an owner that never existed: once it is collected, the collector has worked through what came before. */
  const settle = async () => {
    const name = `sentinel-${randomUUID().slice(0, 8)}`;
    await client.create(configMaps, 'default', configMap(name, { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: randomUUID() }] }));
    await waitFor(async () => !(await find(client, configMaps, 'default', name)), { what: 'the sentinel to be collected' });
  };

  t.test('Background: deleting a Deployment deletes its ReplicaSets and their pods', async (t) => {
    const { deployment, sets, pods: running } = await deploymentChain('bg');
    const deleted = await client.delete(deployments, 'default', 'bg', { propagationPolicy: 'Background' });
    t.equal(deleted.metadata.uid, deployment.metadata.uid);
    t.notOk(await find(client, deployments, 'default', 'bg'), 'the owner goes at once');
    await waitFor(async () => (await client.list(replicaSets, 'default', { labelSelector: 'app=bg' })).items.length === 0, { what: 'the ReplicaSets to go' });
    await waitFor(async () => (await client.list(pods, 'default', { labelSelector: 'app=bg' })).items.length === 0, { what: 'the pods to go' });
    t.ok(sets.length > 0 && running.length >= 2, 'there were dependents to delete');

    // No policy at all is Background too.
    const plain = await client.create(configMaps, 'default', configMap('plain-owner'));
    await client.create(configMaps, 'default', configMap('plain-child', { ownerReferences: [ownerRef(plain)] }));
    await client.delete(configMaps, 'default', 'plain-owner');
    await waitFor(async () => !(await find(client, configMaps, 'default', 'plain-child')), { what: 'the child of an owner deleted without a policy' });
  });

  t.test('Orphan: the owner goes, its dependents stay without the reference', async (t) => {
    const { deployment, sets, pods: running } = await deploymentChain('orphan');
    const marked = await client.delete(deployments, 'default', 'orphan', { propagationPolicy: 'Orphan' });
    t.same(marked.metadata.finalizers, ['orphan'], 'the API leaves the orphan finalizer');
    await waitFor(async () => !(await find(client, deployments, 'default', 'orphan')), { what: 'the orphaning owner to go' });
    for (const set of sets) {
      const live = await client.get(replicaSets, 'default', set.metadata.name!);
      t.equal(live.metadata.uid, set.metadata.uid, `${set.metadata.name} survives`);
      t.notOk((live.metadata.ownerReferences ?? []).some((reference) => reference.uid === deployment.metadata.uid), 'without a reference to the deleted owner');
    }

    // The ReplicaSet orphaned in turn: its pods stay, now with no owner at all.
    const set = sets[0]!;
    const podNames = (await ownedBy(pods, [set], 'orphan')).map((pod) => pod.metadata.name!);
    const before = (await Promise.all(podNames.map((name) => client.get(pods, 'default', name))));
    t.ok(before.length > 0, 'the ReplicaSet has pods');
    await client.delete(replicaSets, 'default', set.metadata.name!, { propagationPolicy: 'Orphan' });
    await waitFor(async () => !(await find(client, replicaSets, 'default', set.metadata.name!)), { what: 'the orphaning ReplicaSet to go' });
    await settle();
    const after = await Promise.all(podNames.map((name) => client.get(pods, 'default', name)));
    t.same(uidsOf(after), uidsOf(before), 'the same pods are still there');
    for (const pod of after) {
      t.equal(pod.metadata.ownerReferences, undefined, `${pod.metadata.name} has no owner left`);
      t.equal(pod.metadata.deletionTimestamp, undefined, `${pod.metadata.name} is not being deleted`);
    }
    t.ok(running.length >= 2);
    for (const name of podNames) await client.delete(pods, 'default', name, { gracePeriodSeconds: 0 });
    for (const other of sets.slice(1)) await client.delete(replicaSets, 'default', other.metadata.name!);
  });

  t.test('Foreground: the owner stays, marked, until its dependents are gone', async (t) => {
    await deploymentChain('fg');
    const marked = await client.delete(deployments, 'default', 'fg', { propagationPolicy: 'Foreground' });
    t.ok(marked.metadata.deletionTimestamp);
    t.same(marked.metadata.finalizers, ['foregroundDeletion']);
    let ownerOutlivedDependents = true;
    await waitFor(
      async () => {
        // The owner first, then its dependents: dependents seen after the owner was gone would be a violation.
        const owner = await find(client, deployments, 'default', 'fg');
        const left = [
          ...(await client.list(replicaSets, 'default', { labelSelector: 'app=fg' })).items,
          ...(await client.list(pods, 'default', { labelSelector: 'app=fg' })).items,
        ];
        if (!owner && left.length > 0) ownerOutlivedDependents = false;
        return !owner && left.length === 0;
      },
      { what: 'the foreground deletion to finish', timeout: 20_000 },
    );
    t.ok(ownerOutlivedDependents, 'the Deployment was never gone while a ReplicaSet or pod remained');

    // A blocking dependent held by its own finalizer keeps the owner; a non-blocking one does not.
    const parent = await client.create(configMaps, 'default', configMap('fg-parent'));
    await client.create(configMaps, 'default', configMap('fg-blocking', { finalizers: ['example.com/hold'], ownerReferences: [ownerRef(parent)] }));
    await client.create(configMaps, 'default', configMap('fg-loose', { finalizers: ['example.com/hold'], ownerReferences: [ownerRef(parent, { block: false })] }));
    await client.delete(configMaps, 'default', 'fg-parent', { propagationPolicy: 'Foreground' });
    await waitFor(
      async () => (await client.get(configMaps, 'default', 'fg-blocking')).metadata.deletionTimestamp && (await client.get(configMaps, 'default', 'fg-loose')).metadata.deletionTimestamp,
      { what: 'both dependents to be deleted' },
    );
    await client.patch(configMaps, 'default', 'fg-loose', 'application/merge-patch+json', { metadata: { finalizers: null } });
    await settle();
    const waiting = await find(client, configMaps, 'default', 'fg-parent');
    t.ok(waiting?.metadata.deletionTimestamp, 'the owner still waits for its blocking dependent');
    t.same(waiting?.metadata.finalizers, ['foregroundDeletion']);
    await client.patch(configMaps, 'default', 'fg-blocking', 'application/merge-patch+json', { metadata: { finalizers: null } });
    await waitFor(async () => !(await find(client, configMaps, 'default', 'fg-parent')), { what: 'the owner to go after its last blocking dependent' });
  });

  t.test('an object with two owners survives while one remains', async (t) => {
    const first = await client.create(configMaps, 'default', configMap('owner-1'));
    const second = await client.create(configMaps, 'default', configMap('owner-2'));
    const child = await client.create(configMaps, 'default', configMap('shared-child', { ownerReferences: [ownerRef(first, { controller: false }), ownerRef(second, { controller: false })] }));
    await client.delete(configMaps, 'default', 'owner-1');
    const kept = await waitFor(
      async () => {
        const live = await find(client, configMaps, 'default', 'shared-child');
        return live && live.metadata.ownerReferences?.length === 1 ? live : undefined;
      },
      { what: 'the reference to the deleted owner to be dropped' },
    );
    t.equal(kept.metadata.uid, child.metadata.uid, 'the child survives');
    t.same(kept.metadata.ownerReferences?.map((reference) => reference.uid), [second.metadata.uid], 'owned by the remaining owner only');
    await client.delete(configMaps, 'default', 'owner-2');
    await waitFor(async () => !(await find(client, configMaps, 'default', 'shared-child')), { what: 'the child to go with its last owner' });
  });

  t.test('owners are matched by uid; unknown owner kinds are never collected; cluster-scoped owners', async (t) => {
    const original = await client.create(configMaps, 'default', configMap('reborn'));
    await client.delete(configMaps, 'default', 'reborn');
    const reborn = await client.create(configMaps, 'default', configMap('reborn'));
    await client.create(configMaps, 'default', configMap('stale-child', { ownerReferences: [ownerRef(original)] }));
    const current = await client.create(configMaps, 'default', configMap('current-child', { ownerReferences: [ownerRef(reborn)] }));
    const foreign = await client.create(configMaps, 'default', configMap('foreign-child', { ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: randomUUID() }] }));
    await waitFor(async () => !(await find(client, configMaps, 'default', 'stale-child')), { what: 'the child of the replaced owner to be collected' });
    await settle();
    t.equal((await client.get(configMaps, 'default', 'reborn')).metadata.uid, reborn.metadata.uid, 'the new owner of the same name stays');
    t.equal((await client.get(configMaps, 'default', 'current-child')).metadata.uid, current.metadata.uid, "the new owner's child stays");
    t.equal((await client.get(configMaps, 'default', 'foreign-child')).metadata.uid, foreign.metadata.uid, 'an owner of a kind pm8s does not serve is never presumed gone');

    const node = await client.create(nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'gc-node' } });
    await client.create(leases, 'kube-node-lease', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'gc-node', ownerReferences: [ownerRef(node)] } });
    await client.create(configMaps, 'default', configMap('node-child', { ownerReferences: [ownerRef(node)] }));
    await client.delete(nodes, undefined, 'gc-node');
    await waitFor(async () => !(await find(client, leases, 'kube-node-lease', 'gc-node')) && !(await find(client, configMaps, 'default', 'node-child')), {
      what: "a Node's dependents to be collected",
    });
    await client.delete(configMaps, 'default', 'current-child');
    await client.delete(configMaps, 'default', 'foreign-child');
  });
});
