/** Shared setup for the runner tests: a pod object, a cgroup driver with a test root, PID teardown. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Test } from 'tap';
import type { Container } from '../../src/api/kinds/container.js';
import type { Pod } from '../../src/api/kinds/pod.js';
import type { CgroupDriver } from '../../src/runtime/cgroups/cgroup-driver.js';
import { detectCgroupDriver } from '../../src/runtime/cgroups/detect-cgroup-driver.js';
import { parseMountinfo } from '../../src/runtime/cgroups/cgroup-mounts.js';
import { removeCgroupTree } from './cgroup-conformance.js';

export const TIMING = { initialBackoffMs: 300, maxBackoffMs: 2_000, resetAfterMs: 60_000, probeTimeScale: 0.1, pollMs: 25 };

let counter = 0;
export function makePod(spec: { containers: Container[]; initContainers?: Container[]; restartPolicy?: 'Always' | 'OnFailure' | 'Never'; grace?: number }): Pod {
  counter++;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${counter}`, namespace: 'default', uid: `0000-${process.pid}-${counter}` },
    spec: {
      containers: spec.containers,
      ...(spec.initContainers === undefined ? {} : { initContainers: spec.initContainers }),
      restartPolicy: spec.restartPolicy ?? 'Always',
      terminationGracePeriodSeconds: spec.grace ?? 1,
    },
  } as Pod;
}

/** A cgroup driver under a throwaway root, removed (with anything left in it) at teardown. */
export async function testDriver(t: Test): Promise<CgroupDriver> {
  return detectCgroupDriver({ root: testCgroupRoot(t) });
}

/** A throwaway cgroup root name (for a driver, or an agent's hidden --cgroup-root), removed with its contents at teardown. */
export function testCgroupRoot(t: Test): string {
  const name = `pm8s-test-${process.pid}-${++counter}`;
  const mounts = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).filter((m) => m.mountPoint.startsWith('/sys/fs/cgroup'));
  t.teardown(async () => {
    for (const mount of mounts) await removeCgroupTree(join(mount.mountPoint, name)).catch(() => undefined);
  });
  return name;
}

/** Kills by pid (group and process) every pid a test saw in a containerID. */
export function pidKiller(t: Test): (containerID: string | undefined) => number | undefined {
  const pids = new Set<number>();
  t.teardown(() => {
    for (const pid of pids) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
  return (id) => {
    const match = /^pm8s:\/\/(\d+)-/.exec(id ?? '');
    if (match === null) return undefined;
    const pid = Number(match[1]);
    pids.add(pid);
    return pid;
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A tiny HTTP server: /healthz and /ready answer 500 while `<flagDir>/<path>` exists. */
export function httpServer(port: number, flagDir: string): string[] {
  const script = `const fs=require('fs');require('http').createServer((q,s)=>{s.statusCode=fs.existsSync(${JSON.stringify(flagDir)}+q.url)?500:200;s.end('ok')}).listen(${port},'127.0.0.1')`;
  return [process.execPath, '-e', script];
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function cleanDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A fresh directory per call, removed at teardown. Unlike `t.testdir()` — which wipes and reuses
 * one directory per test — two pods in one test never share or delete each other's files. Call it
 * before starting anything that writes there: teardowns run last-in first-out, so the runners
 * stop before their directory goes.
 */
export function scratchDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm8s-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
