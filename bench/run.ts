/** `npm run bench`: runs every benchmark on this machine and rewrites docs/benchmarks.md. */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { apiBenchmark } from './api.js';
import { podStartBenchmark } from './pod-start.js';
import { schedulerBenchmark } from './scheduler.js';

const QUICK = process.argv.includes('--quick');

async function main(): Promise<void> {
  const started = new Date();
  const sections: string[] = [];
  process.stdout.write('api benchmark…\n');
  sections.push(
    await apiBenchmark(
      QUICK
        ? { objects: 1000, concurrency: 16, gets: 500, lists: 5, watchers: 5, watchEvents: 100 }
        : { objects: 10_000, concurrency: 16, gets: 5000, lists: 20, watchers: 10, watchEvents: 500 },
    ),
  );
  process.stdout.write('scheduler benchmark…\n');
  sections.push(await schedulerBenchmark(QUICK ? { nodes: 100, pods: 1000, deploymentReplicas: 200 } : { nodes: 100, pods: 5000, deploymentReplicas: 1000 }));
  process.stdout.write('pod start benchmark…\n');
  sections.push(await podStartBenchmark({ processes: QUICK ? 20 : 100 }));
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const header = [
    '# Benchmarks',
    '',
    `Measured by \`npm run bench\` on ${started.toISOString().slice(0, 10)}: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}.`,
    'Each table compares pm8s with a baseline measured in the same run on the same machine; ratios are pm8s ÷ baseline',
    '(for latencies lower is better, for throughput higher is better). Numbers vary between machines; the ratios are what to compare.',
    '',
  ];
  const text = [...header, ...sections].join('\n');
  const target = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../docs/benchmarks.md');
  await writeFile(target, text);
  process.stdout.write(`${text}\nwritten to ${target}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
