/** Shared by the CLI tests (tap lists this file as "no tests found"): a real server, and the CLI run in-process or as a binary. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { BufferOutput } from '../../src/cli/output.js';
import type { ControllerConfig } from '../../src/daemon/server/controllers/controller.js';
import { startServer, type RunningServer } from '../../src/daemon/server/server.js';
import { silentLogger } from '../../src/lib/logger.js';

export interface Tap {
  teardown(fn: () => unknown): void;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A server on a free port with its own data dir (not t.testdir(), which the test keeps for its files);
 * the API alone unless `controllers` asks for the controllers (the garbage collector and namespace
 * controller finish what Orphan/Foreground deletes and namespace deletes start).
 */
export async function startTestServer(t: Tap, options: { controllers?: Partial<ControllerConfig> } = {}): Promise<RunningServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pm8s-cli-'));
  const server = await startServer({ dataDir, listen: '127.0.0.1:0', logger: silentLogger, version: 'test', controllers: options.controllers ?? false });
  if (options.controllers) await server.controllersStarted;
  t.teardown(async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  return server;
}

/** `pm8s --kubeconfig <server's> ARGS…` in this process. */
export async function pm8s(server: RunningServer | string, args: string[], options: { stdin?: string } = {}): Promise<RunResult> {
  const output = new BufferOutput();
  const kubeconfig = typeof server === 'string' ? server : server.kubeconfigPath;
  const code = await main(['node', 'pm8s', '--kubeconfig', kubeconfig, ...args], {
    output,
    readStdin: async () => options.stdin ?? '',
  });
  return { code, stdout: output.stdout, stderr: output.stderr };
}

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'pm8s.js');

/** The built binary (`npm run build` first), with stdin piped in. */
export function pm8sBinary(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

export { waitFor } from './wait.js';

export const deploymentYaml = (name: string, extra: { replicas?: number; env?: boolean; namespace?: string } = {}): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
${extra.namespace ? `  namespace: ${extra.namespace}\n` : ''}  labels:
    app: ${name}
spec:
  replicas: ${extra.replicas ?? 2}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
        - name: main
          command: ["node", "server.js"]
          ports:
            - containerPort: 8080
${extra.env === false ? '' : `          env:
            - name: GREETING
              value: hello
`}`;

export const configMapYaml = (name: string, data: Record<string, string> = { a: '1' }, labels: Record<string, string> = {}): string =>
  `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  labels: ${JSON.stringify(labels)}
data: ${JSON.stringify(data)}
`;
