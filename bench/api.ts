/**
 * API benchmark: creates/s and latency of create, get and list with 10,000 objects over HTTPS, and
 * watch delivery delay, for `pm8s server` (SQLite, synchronous=FULL) against a bare HTTPS server
 * with the same certificate and client (the transport baseline), measured in the same run.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import type { BenchClient } from './https-client.js';
import { benchClient } from './https-client.js';
import { rssMiB, startProcess } from './processes.js';
import type { Summary } from './stats.js';
import { ms, ratio, runConcurrent, summarize } from './stats.js';

export interface ApiBenchOptions {
  objects: number;
  concurrency: number;
  gets: number;
  lists: number;
  watchers: number;
  watchEvents: number;
}

interface Measured {
  createsPerSecond: number;
  create: Summary;
  get: Summary;
  list: Summary;
  watchDelay: Summary;
}

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bin/pm8s.js');

export async function apiBenchmark(options: ApiBenchOptions): Promise<string> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pm8s-bench-'));
  const pm8s = await startProcess(process.execPath, [BIN, 'server', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], (line) => line.msg === 'pm8s server listening');
  let baseline: Awaited<ReturnType<typeof startProcess>> | undefined;
  try {
    const config = parse(await readFile(String(pm8s.ready.kubeconfig), 'utf8')) as {
      clusters: Array<{ cluster: { 'certificate-authority-data': string } }>;
      users: Array<{ user: { token: string } }>;
    };
    const ca = Buffer.from(config.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString('utf8');
    const token = config.users[0]!.user.token;
    baseline = await startProcess(
      process.execPath,
      [path.resolve(path.dirname(new URL(import.meta.url).pathname), 'baseline-server.js'), path.join(dataDir, 'tls/server.crt'), path.join(dataDir, 'tls/server.key')],
      (line) => typeof line.port === 'number',
    );
    const pm8sClient = benchClient(String(pm8s.ready.url), { ca, token });
    const baselineClient = benchClient(`https://127.0.0.1:${String(baseline.ready.port)}`, { ca });
    // Baseline first, then pm8s: each on a quiet machine.
    const base = await measure(baselineClient, options);
    const ours = await measure(pm8sClient, options);
    const serverRss = rssMiB(pm8s.child.pid!);
    pm8sClient.close();
    baselineClient.close();
    return report(ours, base, options, serverRss);
  } finally {
    await baseline?.stop();
    await pm8s.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function measure(client: BenchClient, options: ApiBenchOptions): Promise<Measured> {
  const collection = '/api/v1/namespaces/default/configmaps';
  const body = (index: number) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `bench-${index}`, labels: { app: 'bench', shard: String(index % 100) } },
    data: { index: String(index), payload: 'x'.repeat(200) },
  });
  const created = await runConcurrent(options.objects, options.concurrency, async (index) => {
    const response = await client.request('POST', collection, body(index));
    if (response.status !== 201) throw new Error(`create ${index}: ${response.status} ${response.body.slice(0, 200)}`);
  });
  const gets = await runConcurrent(options.gets, options.concurrency, async (index) => {
    const response = await client.request('GET', `${collection}/bench-${(index * 7919) % options.objects}`);
    if (response.status !== 200) throw new Error(`get: ${response.status}`);
  });
  const lists = await runConcurrent(options.lists, 1, async () => {
    const response = await client.request('GET', collection);
    if (response.status !== 200) throw new Error(`list: ${response.status}`);
  });

  const sent = new Map<string, number>();
  const delays: number[] = [];
  const stops: Array<() => void> = [];
  let received = 0;
  for (let watcher = 0; watcher < options.watchers; watcher++) {
    stops.push(
      await client.stream(`${collection}?watch=true&resourceVersion=${await currentVersion(client, collection)}`, (line) => {
        const name = /"name":"(watch-\d+)"/.exec(line)?.[1];
        const start = name ? sent.get(name) : undefined;
        if (start === undefined) return;
        delays.push(performance.now() - start);
        received++;
      }),
    );
  }
  for (let index = 0; index < options.watchEvents; index++) {
    const name = `watch-${index}`;
    sent.set(name, performance.now());
    await client.request('POST', collection, { ...body(index), metadata: { name } });
  }
  const expected = options.watchEvents * options.watchers;
  const deadline = Date.now() + 10_000;
  while (received < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  for (const stop of stops) stop();
  if (received < expected) throw new Error(`watch: received ${received} of ${expected} events`);
  return {
    createsPerSecond: options.objects / created.seconds,
    create: summarize(created.latencies),
    get: summarize(gets.latencies),
    list: summarize(lists.latencies),
    watchDelay: summarize(delays),
  };
}

async function currentVersion(client: BenchClient, collection: string): Promise<string> {
  const response = await client.request('GET', `${collection}?limit=1`);
  const parsed = JSON.parse(response.body) as { metadata?: { resourceVersion?: string } };
  return parsed.metadata?.resourceVersion ?? '0';
}

function report(ours: Measured, base: Measured, options: ApiBenchOptions, serverRss: number): string {
  const row = (name: string, a: Summary, b: Summary) =>
    `| ${name} | ${ms(a.p50)} / ${ms(a.p99)} | ${ms(b.p50)} / ${ms(b.p99)} | ${ratio(a.p50, b.p50)} / ${ratio(a.p99, b.p99)} |`;
  return [
    '## API server',
    '',
    `${options.objects.toLocaleString('en')} ConfigMaps (~300 bytes of data each) created over HTTPS by ${options.concurrency} concurrent keep-alive clients, then ${options.gets.toLocaleString('en')} gets, ${options.lists} lists of all ${options.objects.toLocaleString('en')} objects, and ${options.watchEvents} creates delivered to ${options.watchers} watchers. **Baseline**: a bare Node HTTPS server with the same certificate and client, which keeps objects in a Map and streams one line per create — the cost of the transport alone. pm8s writes every create to SQLite with synchronous=FULL and answers only after COMMIT.`,
    '',
    '| metric | pm8s | baseline | pm8s ÷ baseline |',
    '| --- | --- | --- | --- |',
    `| creates/s | ${ours.createsPerSecond.toFixed(0)} | ${base.createsPerSecond.toFixed(0)} | ${ratio(ours.createsPerSecond, base.createsPerSecond)} |`,
    `${row('create latency p50 / p99 (ms)', ours.create, base.create)}`,
    `${row('get latency p50 / p99 (ms)', ours.get, base.get)}`,
    `${row(`list of ${options.objects.toLocaleString('en')} p50 / p99 (ms)`, ours.list, base.list)}`,
    `${row('watch delivery delay p50 / p99 (ms)', ours.watchDelay, base.watchDelay)}`,
    '',
    `pm8s server RSS after the run: ${serverRss.toFixed(0)} MiB.`,
    '',
  ].join('\n');
}
