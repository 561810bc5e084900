import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { joinSnippet, parseFlatKeyed, readProcs, removeCgroupDir, shellQuote } from '../../../src/runtime/cgroups/cgroup-fs.js';
import { run } from '../../helpers/processes.js';

t.test('flat keyed files', async (t) => {
  t.same([...parseFlatKeyed('oom_kill_disable 0\nunder_oom 0\noom_kill 3\n')], [
    ['oom_kill_disable', 0n],
    ['under_oom', 0n],
    ['oom_kill', 3n],
  ]);
  t.same([...parseFlatKeyed(undefined)], [], 'a missing file is empty');
  t.same([...parseFlatKeyed('some words here\nusage_usec 18446744073709551615')], [['usage_usec', 18446744073709551615n]], 'counters beyond 2^53 stay exact');
});

t.test('the join snippet writes $$ to every file, or exits 125', async (t) => {
  const dir = t.testdir({ "it's here": {} });
  const files = [join(dir, 'a'), join(dir, "it's here", 'b')];
  const joined = await run(t, 'sh', ['-c', `${joinSnippet(files)}; echo $$`]);
  t.equal(joined.code, 0);
  for (const file of files) t.equal(await readFile(file, 'utf8'), joined.stdout, `${file} got the shell's pid`);
  const failed = await run(t, 'sh', ['-c', `${joinSnippet([join(dir, 'missing', 'x')])}; echo ran`]);
  t.same({ code: failed.code, stdout: failed.stdout }, { code: 125, stdout: '' }, 'a failed join never runs the command');
  t.equal(shellQuote("a'b"), `'a'\\''b'`);
});

t.test('process lists include cgroups below, and removal tolerates missing directories', async (t) => {
  const dir = t.testdir({ 'cgroup.procs': '12\n3\n', child: { 'cgroup.procs': '7\n' } });
  t.same(await readProcs(dir), [3, 7, 12]);
  t.same(await readProcs(join(dir, 'missing')), []);
  await mkdir(join(dir, 'empty'));
  t.equal(await removeCgroupDir(join(dir, 'empty')), 'removed');
  t.equal(await removeCgroupDir(join(dir, 'empty')), 'missing');
  await writeFile(join(dir, 'child', 'x'), '');
  t.equal(await removeCgroupDir(join(dir, 'child'), { busyMs: 50 }), 'busy', 'a directory that stays non-empty is reported busy');
});
