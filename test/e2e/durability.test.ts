/**
 * REFERENCE.md §E.1 item 1: SIGKILL the real `pm8s server` while 8 clients write, restart it, and
 * check that every acknowledged write survived, nothing is torn, nothing appeared from nowhere,
 * and the SQLite file passes integrity_check. The seed is printed; PM8S_DURABILITY_SEED replays it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import t from 'tap';
import type { Test } from 'tap';
import type { ApiResponse, Connection } from '../helpers/api-request.js';
import { apiRequest, closeConnection, configMap, connectionFromKubeconfig, deployment } from '../helpers/api-request.js';
import { waitFor } from '../helpers/wait.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(root, 'bin', 'pm8s.js');
const CM = '/api/v1/namespaces/default/configmaps';
const DEPLOY = '/apis/apps/v1/namespaces/default/deployments';
const CLIENTS = 8;

if (!existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'))) {
  t.fail('dist/ is missing: run `npx tsc -p tsconfig.build.json` (npm test does) before this test');
}

interface ServerProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  pid: number;
  lines: Array<Record<string, unknown>>;
  url: string;
  kubeconfig: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `pm8s server` and waits for its "listening" line; SIGKILLed by pid at teardown if still alive.
 * Without controllers: this measures the store and API, and the Deployment controller would
 * otherwise add its own annotations and status to the Deployments the clients write.
 */
async function startServerProcess(t: Test, dataDir: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, 'server', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--log-level', 'info', '--no-controllers'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
    await exited;
  });
  const lines: Array<Record<string, unknown>> = [];
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (!line.trim()) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ msg: 'unparsable log line', line });
      }
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const listening = await Promise.race([
    waitFor(() => lines.find((line) => line.msg === 'pm8s server listening'), { timeout: 20_000, what: 'the server to listen' }),
    exited.then(({ code, signal }) => {
      throw new Error(`pm8s server exited early (code ${code}, signal ${signal}): ${stderr} ${JSON.stringify(lines)}`);
    }),
  ]);
  return { child, pid, lines, url: String(listening.url), kubeconfig: String(listening.kubeconfig), exited };
}

async function stopGracefully(server: ServerProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  process.kill(server.pid, 'SIGTERM');
  return Promise.race([
    server.exited,
    new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('server did not stop within 15 s of SIGTERM')), 15_000).unref()),
  ]);
}

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const hash = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);

/** What a client controls in each kind; the server's own fields (defaults, metadata) are left out. */
function contentOf(kind: 'cm' | 'deploy', object: Record<string, unknown>): string {
  const metadata = object.metadata as { labels?: unknown; annotations?: unknown };
  if (kind === 'cm') return hash({ labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {}, data: object.data ?? {} });
  const spec = object.spec as { replicas?: number; template?: { metadata?: { annotations?: unknown }; spec?: { containers?: Array<{ args?: unknown }> } } };
  return hash({
    annotations: metadata.annotations ?? {},
    replicas: spec.replicas,
    templateAnnotations: spec.template?.metadata?.annotations ?? {},
    args: spec.template?.spec?.containers?.[0]?.args,
  });
}

/** Every body sent and every write acknowledged, across all clients and all kill rounds. */
class Ledger {
  /** `kind/name` → content hashes of every body ever sent (acknowledged or not). */
  readonly sent = new Map<string, Set<string>>();
  /** `kind/name` → the highest acknowledged resourceVersion and its content. */
  readonly acked = new Map<string, { resourceVersion: number; content: string }>();
  /** `kind/name` whose delete was acknowledged (names are never reused after a delete). */
  readonly deleted = new Set<string>();
  /** `kind/name` whose delete was sent: it may be gone even without an acknowledgement. */
  readonly deleteSent = new Set<string>();
  acknowledgedWrites = 0;

  send(key: string, content: string): void {
    let set = this.sent.get(key);
    if (!set) this.sent.set(key, (set = new Set()));
    set.add(content);
  }

  ack(key: string, resourceVersion: number, content: string): void {
    this.acknowledgedWrites++;
    const previous = this.acked.get(key);
    if (!previous || resourceVersion >= previous.resourceVersion) this.acked.set(key, { resourceVersion, content });
  }
}

interface Owned {
  kind: 'cm' | 'deploy';
  name: string;
  resourceVersion: string;
}

/** One client: creates, updates (PUT with the last resourceVersion it saw), and now and then deletes, until a request fails at the transport level. */
async function runClient(connection: Connection, ledger: Ledger, prefix: string, random: () => number, stop: { stopped: boolean }): Promise<number> {
  const owned: Owned[] = [];
  let created = 0;
  let writes = 0;
  const send = async (method: string, url: string, body?: unknown): Promise<ApiResponse | undefined> => {
    try {
      return await apiRequest(connection, method, url, body === undefined ? { timeoutMs: 5000 } : { body, timeoutMs: 5000 });
    } catch {
      // Connection refused or reset: the server is gone; the outcome of this request is unknown.
      stop.stopped = true;
      return undefined;
    }
  };
  while (!stop.stopped) {
    const roll = random();
    const version = `${prefix}-${writes++}-${Math.floor(random() * 1e9)}`;
    if (owned.length < 3 || roll < 0.3) {
      const kind: 'cm' | 'deploy' = random() < 0.15 ? 'deploy' : 'cm';
      const name = `${prefix}-${kind}-${created++}`;
      const body = kind === 'cm' ? configBody(name, version, random) : deployBody(name, version, random);
      const key = `${kind}/${name}`;
      ledger.send(key, contentOf(kind, body));
      const response = await send('POST', kind === 'cm' ? CM : DEPLOY, body);
      if (!response) break;
      if (response.status !== 201) throw new Error(`create ${key}: ${response.status} ${response.text}`);
      const object = response.json as { metadata: { resourceVersion: string } };
      ledger.ack(key, Number(object.metadata.resourceVersion), contentOf(kind, response.json as Record<string, unknown>));
      owned.push({ kind, name, resourceVersion: object.metadata.resourceVersion });
    } else if (roll < 0.95) {
      const target = owned[Math.floor(random() * owned.length)]!;
      const body = target.kind === 'cm' ? configBody(target.name, version, random) : deployBody(target.name, version, random);
      (body.metadata as Record<string, unknown>).resourceVersion = target.resourceVersion;
      const key = `${target.kind}/${target.name}`;
      ledger.send(key, contentOf(target.kind, body));
      const response = await send('PUT', `${target.kind === 'cm' ? CM : DEPLOY}/${target.name}`, body);
      if (!response) break;
      if (response.status !== 200) throw new Error(`update ${key}: ${response.status} ${response.text}`);
      const object = response.json as { metadata: { resourceVersion: string } };
      ledger.ack(key, Number(object.metadata.resourceVersion), contentOf(target.kind, response.json as Record<string, unknown>));
      target.resourceVersion = object.metadata.resourceVersion;
    } else {
      const index = Math.floor(random() * owned.length);
      const target = owned[index]!;
      ledger.deleteSent.add(`${target.kind}/${target.name}`);
      const response = await send('DELETE', `${target.kind === 'cm' ? CM : DEPLOY}/${target.name}`);
      if (!response) break;
      if (response.status !== 200) throw new Error(`delete ${target.kind}/${target.name}: ${response.status} ${response.text}`);
      ledger.deleted.add(`${target.kind}/${target.name}`);
      owned.splice(index, 1);
    }
  }
  return writes;
}

function configBody(name: string, version: string, random: () => number): Record<string, unknown> & { metadata: Record<string, unknown> } {
  // Labels, annotations and data all carry the version: a torn write would mix two of them.
  const data: Record<string, string> = { version };
  const size = Math.floor(random() * 8);
  for (let index = 0; index < size; index++) data[`k${index}`] = `${version}:${'x'.repeat(Math.floor(random() * 2000))}`;
  return configMap(name, data, { labels: { version: version.replace(/[^a-z0-9-]/g, '') }, annotations: { version } }) as Record<string, unknown> & { metadata: Record<string, unknown> };
}

function deployBody(name: string, version: string, random: () => number): Record<string, unknown> & { metadata: Record<string, unknown> } {
  const manifest = deployment(name, Math.floor(random() * 5), [version]) as Record<string, unknown> & { metadata: Record<string, unknown>; spec: { template: { metadata: Record<string, unknown> } } };
  manifest.metadata.annotations = { version };
  manifest.spec.template.metadata.annotations = { version };
  return manifest;
}

/** Everything the restarted server holds for the test's objects must agree with the ledger. */
async function verify(t: Test, connection: Connection, ledger: Ledger, round: number): Promise<void> {
  const seen = new Map<string, { resourceVersion: number; content: string }>();
  for (const [kind, url] of [['cm', CM], ['deploy', DEPLOY]] as const) {
    const response = await apiRequest(connection, 'GET', url, { timeoutMs: 20_000 });
    t.equal(response.status, 200, `round ${round}: list ${kind}`);
    for (const item of (response.json as { items: Array<Record<string, unknown> & { metadata: { name: string; resourceVersion: string } }> }).items) {
      seen.set(`${kind}/${item.metadata.name}`, { resourceVersion: Number(item.metadata.resourceVersion), content: contentOf(kind, item) });
    }
  }
  const problems = findProblems(ledger, seen);
  t.same(problems, [], `round ${round}: ${ledger.acked.size} acknowledged objects, ${seen.size} stored, all consistent`);
}

/** Where the stored state (`seen`: `kind/name` → resourceVersion and content) disagrees with the ledger. */
function findProblems(ledger: Ledger, seen: Map<string, { resourceVersion: number; content: string }>): string[] {
  const problems: string[] = [];
  for (const [key, acked] of ledger.acked) {
    const found = seen.get(key);
    if (ledger.deleted.has(key)) {
      if (found) problems.push(`${key}: deleted (acknowledged) but present at ${found.resourceVersion}`);
      continue;
    }
    if (!found) {
      if (!ledger.deleteSent.has(key)) problems.push(`${key}: acknowledged at ${acked.resourceVersion} but missing`);
    } else if (found.resourceVersion < acked.resourceVersion) problems.push(`${key}: at ${found.resourceVersion}, older than acknowledged ${acked.resourceVersion}`);
    else if (found.resourceVersion === acked.resourceVersion && found.content !== acked.content) problems.push(`${key}: content differs from the acknowledged write at the same resourceVersion`);
  }
  for (const [key, found] of seen) {
    const sent = ledger.sent.get(key);
    if (!sent) problems.push(`${key}: exists but no client ever sent it`);
    else if (!sent.has(found.content)) problems.push(`${key}: content ${found.content} is none of the ${sent.size} versions sent (torn or invented)`);
  }
  return problems;
}

function integrityCheck(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

t.test('the consistency check finds every kind of loss', async (t) => {
  const ledger = new Ledger();
  ledger.send('cm/a', 'A1');
  ledger.ack('cm/a', 5, 'A1');
  ledger.send('cm/a', 'A2');
  ledger.send('cm/b', 'B1');
  ledger.ack('cm/b', 6, 'B1');
  ledger.send('cm/c', 'C1');
  ledger.ack('cm/c', 7, 'C1');
  ledger.deleteSent.add('cm/c');
  const state = (entries: Array<[string, number, string]>) => new Map(entries.map(([key, resourceVersion, content]) => [key, { resourceVersion, content }]));
  t.same(findProblems(ledger, state([['cm/a', 5, 'A1'], ['cm/b', 6, 'B1']])), [], 'consistent (an unacknowledged delete may have happened)');
  t.same(findProblems(ledger, state([['cm/a', 9, 'A2'], ['cm/b', 6, 'B1'], ['cm/c', 7, 'C1']])), [], 'a later unacknowledged write is fine');
  t.match(findProblems(ledger, state([['cm/a', 5, 'A1']])), [/cm\/b: acknowledged at 6 but missing/], 'a lost object');
  t.match(findProblems(ledger, state([['cm/a', 4, 'A1'], ['cm/b', 6, 'B1']])), [/cm\/a: at 4, older than acknowledged 5/], 'a rolled-back write');
  t.match(findProblems(ledger, state([['cm/a', 9, 'A3'], ['cm/b', 6, 'B1']])), [/cm\/a: content A3 is none of the 2 versions sent/], 'a torn object');
  t.match(findProblems(ledger, state([['cm/a', 5, 'A2'], ['cm/b', 6, 'B1']])), [/cm\/a: content differs from the acknowledged write/], 'another content at the acknowledged revision');
  t.match(findProblems(ledger, state([['cm/a', 5, 'A1'], ['cm/b', 6, 'B1'], ['cm/z', 1, 'Z']])), [/cm\/z: exists but no client ever sent it/], 'an invented object');
  ledger.deleted.add('cm/c');
  t.match(findProblems(ledger, state([['cm/a', 5, 'A1'], ['cm/b', 6, 'B1'], ['cm/c', 7, 'C1']])), [/cm\/c: deleted \(acknowledged\) but present/], 'a resurrected object');
});

t.test('SIGKILL during concurrent writes loses no acknowledged write and tears nothing', async (t) => {
  const seed = Number(process.env.PM8S_DURABILITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.comment(`seed ${seed} (replay with PM8S_DURABILITY_SEED=${seed})`);
  const random = prng(seed);
  const dataDir = t.testdir();
  const ledger = new Ledger();
  const rounds = 4;
  for (let round = 0; round < rounds; round++) {
    const server = await startServerProcess(t, dataDir);
    const connections = await Promise.all(Array.from({ length: CLIENTS }, () => connectionFromKubeconfig(server.kubeconfig)));
    const stop = { stopped: false };
    const before = ledger.acknowledgedWrites;
    const clients = connections.map((connection, index) => runClient(connection, ledger, `r${round}c${index}`, prng(Math.floor(random() * 2 ** 31)), stop));
    // Kill points spread over the run: early (first writes), middle, late.
    const killAfterMs = 150 + Math.floor(random() * 350) + round * 400;
    // Counted from the first acknowledged write: a loaded machine may take longer than that to get there.
    await waitFor(() => ledger.acknowledgedWrites > before, { what: `round ${round}: a first acknowledged write`, timeout: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, killAfterMs));
    process.kill(server.pid, 'SIGKILL');
    const exit = await server.exited;
    t.equal(exit.signal, 'SIGKILL', `round ${round}: killed after ${killAfterMs} ms`);
    stop.stopped = true;
    const results = await Promise.allSettled(clients);
    for (const result of results) if (result.status === 'rejected') t.fail(`round ${round}: a client saw an unexpected answer: ${String(result.reason)}`);
    for (const connection of connections) closeConnection(connection);
    t.ok(ledger.acknowledgedWrites > before, `round ${round}: ${ledger.acknowledgedWrites - before} writes acknowledged before the kill`);

    const restarted = await startServerProcess(t, dataDir);
    t.equal(restarted.kubeconfig, server.kubeconfig);
    const connection = await connectionFromKubeconfig(restarted.kubeconfig);
    await verify(t, connection, ledger, round);
    closeConnection(connection);
    const stopped = await stopGracefully(restarted);
    t.same(stopped, { code: 0, signal: null }, `round ${round}: SIGTERM stops the restarted server with exit 0`);
    t.equal(integrityCheck(path.join(dataDir, 'state.db')), 'ok', `round ${round}: PRAGMA integrity_check`);
  }

  // Last, a graceful stop under the same load: in-flight writes finish, exit 0, nothing lost.
  const server = await startServerProcess(t, dataDir);
  const connections = await Promise.all(Array.from({ length: CLIENTS }, () => connectionFromKubeconfig(server.kubeconfig)));
  const stop = { stopped: false };
  const clients = connections.map((connection, index) => runClient(connection, ledger, `term-c${index}`, prng(Math.floor(random() * 2 ** 31)), stop));
  await waitFor(() => ledger.acknowledgedWrites > 0 && server.lines.length > 0, { what: 'writes under way' });
  await new Promise((resolve) => setTimeout(resolve, 200 + Math.floor(random() * 300)));
  const terminated = await stopGracefully(server);
  stop.stopped = true;
  t.same(terminated, { code: 0, signal: null }, 'SIGTERM under load: exit 0');
  t.ok(server.lines.some((line) => line.msg === 'pm8s server stopped'), 'SIGTERM under load: logs "pm8s server stopped"');
  for (const result of await Promise.allSettled(clients)) if (result.status === 'rejected') t.fail(`SIGTERM round: a client saw an unexpected answer: ${String(result.reason)}`);
  for (const connection of connections) closeConnection(connection);
  t.equal(integrityCheck(path.join(dataDir, 'state.db')), 'ok', 'SIGTERM round: PRAGMA integrity_check');
  const final = await startServerProcess(t, dataDir);
  const connection = await connectionFromKubeconfig(final.kubeconfig);
  await verify(t, connection, ledger, rounds);
  closeConnection(connection);
  t.same(await stopGracefully(final), { code: 0, signal: null });
  t.comment(`${ledger.acknowledgedWrites} acknowledged writes, ${ledger.acked.size} objects, ${ledger.deleted.size} deleted, over ${rounds} kills and one SIGTERM`);
});

t.test('SIGTERM stops cleanly; a second start reuses the admin kubeconfig and token', async (t) => {
  const dataDir = t.testdir();
  const first = await startServerProcess(t, dataDir);
  const kubeconfigText = await readFile(first.kubeconfig, 'utf8');
  const connection = await connectionFromKubeconfig(first.kubeconfig);
  const created = await apiRequest(connection, 'POST', CM, { body: configMap('survivor', { a: 'b' }) });
  t.equal(created.status, 201);
  closeConnection(connection);
  t.ok(first.lines.some((line) => line.msg === 'created the admin token and its client config'), 'the first start creates the admin token');

  const exit = await stopGracefully(first);
  t.same(exit, { code: 0, signal: null }, 'SIGTERM → exit 0');
  t.ok(first.lines.some((line) => line.msg === 'pm8s server stopped'), 'logs "pm8s server stopped"');
  t.equal(integrityCheck(path.join(dataDir, 'state.db')), 'ok');

  const second = await startServerProcess(t, dataDir);
  t.notOk(second.lines.some((line) => line.msg === 'created the admin token and its client config'), 'the second start creates no new token');
  t.equal(second.kubeconfig, first.kubeconfig, 'same kubeconfig path');
  const reused = await connectionFromKubeconfig(second.kubeconfig);
  t.equal(reused.token, connection.token, 'the token in the kubeconfig is unchanged');
  t.equal(reused.url, second.url, 'the kubeconfig points at the new address');
  const withOldToken = await apiRequest({ ...reused, token: connection.token }, 'GET', `${CM}/survivor`);
  t.equal(withOldToken.status, 200, 'the old token still works');
  t.match(withOldToken.json, { data: { a: 'b' } }, 'and the data survived');
  t.ok(kubeconfigText.includes(connection.token), 'the first kubeconfig held that token');
  closeConnection(reused);

  process.kill(second.pid, 'SIGINT');
  t.same(await second.exited, { code: 0, signal: null }, 'SIGINT also stops with exit 0');
  t.ok(second.lines.some((line) => line.msg === 'pm8s server stopped'));
});
