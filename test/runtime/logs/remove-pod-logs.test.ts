import { lstat, readFile, readdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { listPodLogDirs, pruneContainerLogs, removePodLogs } from '../../../src/runtime/logs/remove-pod-logs.js';

t.test('removes a pod log directory, without following links inside it', async (t) => {
  const root = t.testdir({ outside: { keep: 'x' }, pods: { ns_web_uid1: { app: { '0.log': 'a', '0.log.1': 'b' } }, ns_db_uid2: { db: { '0.log': 'c' } } } });
  const pods = path.join(root, 'pods');
  await symlink(path.join(root, 'outside'), path.join(pods, 'ns_web_uid1', 'app', 'planted'));
  await removePodLogs(path.join(pods, 'ns_web_uid1'));
  t.same(await readdir(pods), ['ns_db_uid2']);
  t.equal(await readFile(path.join(root, 'outside', 'keep'), 'utf8'), 'x', 'the link target survives');
  await removePodLogs(path.join(pods, 'ns_web_uid1'));
  t.pass('removing it again is fine');
  await t.rejects(removePodLogs(path.join(pods, 'ns_db_uid2', 'db'), { root: pods }), { code: 'UnsafeLogPath' }, 'only direct children of the root');
  await t.rejects(removePodLogs(pods, { root: pods }), { code: 'UnsafeLogPath' });
});

t.test('a symlink in place of a pod directory is unlinked, its target kept', async (t) => {
  const root = t.testdir({ outside: { keep: 'x' }, pods: {} });
  await symlink(path.join(root, 'outside'), path.join(root, 'pods', 'ns_web_uid1'));
  await removePodLogs(path.join(root, 'pods', 'ns_web_uid1'));
  await t.rejects(lstat(path.join(root, 'pods', 'ns_web_uid1')), { code: 'ENOENT' });
  t.equal(await readFile(path.join(root, 'outside', 'keep'), 'utf8'), 'x');
});

t.test('lists pod log directories to find those whose pod is gone', async (t) => {
  const root = t.testdir({ pods: { ns_web_uid1: {}, 'not-a-pod': {}, ns_file_uid3: 'file' } });
  t.same(await listPodLogDirs(path.join(root, 'pods')), [{ namespace: 'ns', name: 'web', uid: 'uid1', dir: path.join(root, 'pods', 'ns_web_uid1') }]);
  t.same(await listPodLogDirs(path.join(root, 'missing')), []);
});

t.test('prunes all but the newest runs of a container', async (t) => {
  const root = t.testdir({
    ns_web_uid1: { app: { '0.log': '', '0.log.1': '', '0.log.rotation': '{}', '1.log': '', '2.log': '', '2.log.1': '', '10.log': '' } },
  });
  const podDir = path.join(root, 'ns_web_uid1');
  t.same(await pruneContainerLogs(podDir, 'app'), [0, 1]);
  t.same((await readdir(path.join(podDir, 'app'))).sort(), ['10.log', '2.log', '2.log.1']);
  t.same(await pruneContainerLogs(podDir, 'app'), []);
  await t.rejects(pruneContainerLogs(podDir, 'app', 0), RangeError);
});
