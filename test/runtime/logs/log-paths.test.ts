import { symlink } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { containerLogPath, listLogRestarts, podLogDir, rotatedLogPath, rotationStatePath } from '../../../src/runtime/logs/log-paths.js';

t.test('the layout', async (t) => {
  const podDir = podLogDir('/var/lib/pm8s', { namespace: 'default', name: 'web-1', uid: '3f2a-99' });
  t.equal(podDir, '/var/lib/pm8s/pods/default_web-1_3f2a-99');
  const file = containerLogPath(podDir, 'app', 2);
  t.equal(file, '/var/lib/pm8s/pods/default_web-1_3f2a-99/app/2.log');
  t.equal(rotatedLogPath(file, 1), `${file}.1`);
  t.equal(rotationStatePath(file), `${file}.rotation`);
});

t.test('names that are not one safe path component are refused', async (t) => {
  for (const bad of ['..', '.', 'a/b', 'a_b', '', 'UPPER', '-x']) {
    t.throws(() => podLogDir('/d', { namespace: bad, name: 'web', uid: 'u' }), { code: 'InvalidLogName' }, `namespace ${JSON.stringify(bad)}`);
    t.throws(() => containerLogPath('/d/p', bad, 0), { code: 'InvalidLogName' }, `container ${JSON.stringify(bad)}`);
  }
  t.throws(() => podLogDir('/d', { namespace: 'ns', name: 'web', uid: '../x' }), { code: 'InvalidLogName' });
  t.throws(() => containerLogPath('/d/p', 'app', -1), { code: 'InvalidLogName' });
  t.throws(() => containerLogPath('/d/p', 'app', 1.5), { code: 'InvalidLogName' });
});

t.test('restarts on disk are the regular N.log files', async (t) => {
  const root = t.testdir({ pod: { app: { '0.log': '', '0.log.1': '', '2.log': '', '10.log': '', 'x.log': '', '01.log': '' } } });
  await symlink('/etc/hostname', path.join(root, 'pod', 'app', '5.log'));
  t.same(await listLogRestarts(path.join(root, 'pod'), 'app'), [0, 2, 10]);
  t.same(await listLogRestarts(path.join(root, 'pod'), 'other'), []);
});
