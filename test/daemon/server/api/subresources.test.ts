import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { resolveResource } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import { ObjectApi } from '../../../../src/daemon/server/api/object-api.js';
import { scaleOf, updateScale } from '../../../../src/daemon/server/api/subresources.js';
import { SqliteEngine } from '../../../../src/daemon/server/store/sqlite-engine.js';

const deployments = resolveResource('deployments')!;

async function setup(t: Test): Promise<ObjectApi> {
  const engine = new SqliteEngine(path.join(t.testdir(), 'state.db'));
  t.teardown(() => engine.close());
  const api = new ObjectApi(engine);
  await api.bootstrap();
  await api.create(deployments, 'default', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', command: ['sleep', '60'] }] } },
    },
  });
  return api;
}

t.test('a scale without a resourceVersion is not a precondition: a racing status write is retried, not a 409', async (t) => {
  const api = await setup(t);
  // Between the scale's read and its write, a controller writes status (as a Deployment controller does).
  const get = api.get.bind(api);
  let raced = false;
  api.get = async (...args: Parameters<ObjectApi['get']>) => {
    const object = await get(...args);
    if (!raced) {
      raced = true;
      await api.patch(deployments, 'default', 'web', 'application/merge-patch+json', { status: { observedGeneration: 1, replicas: 1 } }, { subresource: 'status' });
    }
    return object;
  };
  const scale = await updateScale(api, deployments, 'default', 'web', { contentType: 'application/merge-patch+json', patch: { spec: { replicas: 4 } } });
  t.ok(raced, 'the status write happened between read and write');
  t.equal(scale.spec.replicas, 4);
  t.equal(((await get(deployments, 'default', 'web')).spec as { replicas: number }).replicas, 4);
});

t.test('a resourceVersion the client sends is a precondition, in a PUT body or a patch', async (t) => {
  const api = await setup(t);
  const current = await api.get(deployments, 'default', 'web');
  const stale = scaleOf(current);
  await api.patch(deployments, 'default', 'web', 'application/merge-patch+json', { metadata: { labels: { touched: 'yes' } } });
  t.match(await updateScale(api, deployments, 'default', 'web', { body: { ...stale, spec: { replicas: 2 } } }).catch((error: unknown) => error), { code: 409 });
  t.match(
    await updateScale(api, deployments, 'default', 'web', {
      contentType: 'application/merge-patch+json',
      patch: { metadata: { resourceVersion: current.metadata.resourceVersion }, spec: { replicas: 2 } },
    }).catch((error: unknown) => error),
    { code: 409 },
  );
  const fresh = scaleOf(await api.get(deployments, 'default', 'web'));
  t.equal((await updateScale(api, deployments, 'default', 'web', { body: { ...fresh, spec: { replicas: 2 } } })).spec.replicas, 2);
});

t.test('an update naming another uid (the object was deleted and re-created) is a conflict', async (t) => {
  const api = await setup(t);
  const old = await api.get(deployments, 'default', 'web');
  await api.delete(deployments, 'default', 'web');
  const { resourceVersion: _resourceVersion, ...metadata } = old.metadata;
  await api.create(deployments, 'default', { ...old, metadata: { name: 'web' }, status: undefined } as KubeObject);
  const replaced = { ...old, metadata: { ...metadata, labels: { stale: 'copy' } } } as KubeObject;
  t.match(await api.update(deployments, 'default', 'web', replaced).catch((error: unknown) => error), { code: 409, message: /UID in precondition/ });
  t.notOk((await api.get(deployments, 'default', 'web')).metadata.labels?.stale, 'nothing written');
});
