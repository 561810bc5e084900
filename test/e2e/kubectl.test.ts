/**
 * Real kubectl binaries against a real `pm8s server` over HTTPS, with the client config the server
 * generates (certificate-authority-data and the admin token): kubectl 1.20 (Debian's
 * kubernetes-client, unpacked by .ci/install-test-deps), kubectl 1.32 (the Google Cloud SDK build)
 * and gcloud's /usr/bin/kubectl dispatcher, which picks its kubectl by our /version.
 * See /work/shared/KUBECTL-PROTOCOL.md for what each command sends.
 */
import { constants } from 'node:fs';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { RunResult } from '../helpers/processes.js';
import { run, spawnStreaming } from '../helpers/processes.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer, testDir } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

interface KubectlBinary {
  label: string;
  file: string;
  /** The client minor version the binary must report. */
  minor: string;
  /** Where it comes from, for the skip reason. */
  source: string;
}

const KUBECTLS: KubectlBinary[] = [
  {
    label: 'kubectl 1.20',
    file: '/opt/pm8s-test/kubectl-1.20/usr/bin/kubectl',
    minor: '20',
    source: "Debian's kubernetes-client .deb, unpacked by .ci/install-test-deps",
  },
  {
    label: 'kubectl 1.32',
    file: '/usr/lib/google-cloud-sdk/bin/kubectl.1.32',
    minor: '32',
    source: "the Google Cloud SDK's kubectl package of this machine image",
  },
];
const DISPATCHER = '/usr/bin/kubectl';

/**
 * Why the binary cannot be had, or undefined when it is installed. Only absence skips: a binary
 * that is there but fails is a failure of the test.
 */
async function missing(file: string, source: string): Promise<string | undefined> {
  try {
    await access(file, constants.X_OK);
    return undefined;
  } catch {
    return `${file} is not installed (it comes from ${source})`;
  }
}

/** No ambient KUBECONFIG or ~/.kube: only what the test passes counts. */
function isolatedEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env.KUBECONFIG;
  return env;
}

interface Kubectl {
  (args: string[], options?: { kubeconfig?: string }): Promise<RunResult>;
  watch(args: string[]): ReturnType<typeof spawnStreaming>;
}

async function kubectlFor(t: Test, file: string, server: TestServer): Promise<Kubectl> {
  const home = path.join(testDir(t), 'home');
  const cacheDir = path.join(testDir(t), 'kube-cache');
  await mkdir(home, { recursive: true });
  const env = isolatedEnv(home);
  const common = (kubeconfig: string) => ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir];
  const kubectl = ((args: string[], options: { kubeconfig?: string } = {}) =>
    run(t, file, [...common(options.kubeconfig ?? server.kubeconfigPath), '--request-timeout=20s', ...args], { env, timeoutMs: 40_000, cwd: testDir(t) })) as Kubectl;
  kubectl.watch = (args) => spawnStreaming(t, file, [...common(server.kubeconfigPath), ...args], { env, cwd: testDir(t) });
  return kubectl;
}

/** Asserts exit 0 and shows stderr when it is not. */
function succeeded(t: Test, result: RunResult, what: string): boolean {
  return t.equal(result.code, 0, `${what} exits 0`, { stdout: result.stdout, stderr: result.stderr, timedOut: result.timedOut, signal: result.signal });
}

const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');
const cells = (line: string) => line.trim().split(/\s+/);

function manifest({ replicas, greeting }: { replicas: number; greeting: string }): string {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels:
    app: web
data:
  greeting: ${greeting}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: main
          command: ["sleep", "3600"]
          env:
            - name: GREETING
              value: ${greeting}
`;
}

for (const binary of KUBECTLS) {
  t.test(`${binary.label} against pm8s server over HTTPS`, async (t) => {
    const reason = await missing(binary.file, binary.source);
    if (reason) {
      t.skip(`${binary.label}: ${reason}`, () => undefined);
      return;
    }
    const server = await startTestServer(t);
    const kubectl = await kubectlFor(t, binary.file, server);
    const file = path.join(testDir(t), 'web.yaml');

    const version = await kubectl(['version', '-o', 'json']);
    if (succeeded(t, version, 'kubectl version')) {
      const reported = JSON.parse(version.stdout) as { clientVersion: { minor: string }; serverVersion: { minor: string; gitVersion: string } };
      t.equal(Number.parseInt(reported.clientVersion.minor, 10), Number(binary.minor), `the binary is kubectl 1.${binary.minor}`);
      t.equal(reported.serverVersion.minor, '32', 'the server reports Kubernetes 1.32');
      t.match(reported.serverVersion.gitVersion, /^v1\.32\.\d+\+pm8s-test$/);
    }

    await t.test('get ns lists the system namespaces as Active', async (t) => {
      const result = await kubectl(['get', 'ns']);
      succeeded(t, result, 'get ns');
      const rows = lines(result.stdout).map(cells);
      t.same(rows[0], ['NAME', 'STATUS', 'AGE'], 'header');
      for (const name of ['default', 'kube-system', 'kube-node-lease']) {
        t.same(rows.find((row) => row[0] === name)?.slice(0, 2), [name, 'Active'], `${name} is Active`);
      }
    });

    await t.test('api-resources prints the discovery documents', async (t) => {
      const result = await kubectl(['api-resources']);
      succeeded(t, result, 'api-resources');
      const rows = lines(result.stdout).map(cells);
      t.same(rows.find((row) => row[0] === 'deployments'), ['deployments', 'deploy', 'apps/v1', 'true', 'Deployment']);
      t.same(rows.find((row) => row[0] === 'configmaps'), ['configmaps', 'cm', 'v1', 'true', 'ConfigMap']);
      t.same(rows.find((row) => row[0] === 'namespaces'), ['namespaces', 'ns', 'v1', 'false', 'Namespace']);
    });

    await t.test('apply -f creates, leaves unchanged, then configures', async (t) => {
      await writeFile(file, manifest({ replicas: 1, greeting: 'hello' }));
      const created = await kubectl(['apply', '-f', file]);
      succeeded(t, created, 'first apply');
      t.same(lines(created.stdout), ['configmap/settings created', 'deployment.apps/web created']);

      const again = await kubectl(['apply', '-f', file]);
      succeeded(t, again, 'second apply of the same file');
      t.same(lines(again.stdout), ['configmap/settings unchanged', 'deployment.apps/web unchanged']);
      t.notMatch(again.stderr, /Warning/, 'no warning about a missing last-applied annotation');

      await writeFile(file, manifest({ replicas: 3, greeting: 'bonjour' }));
      const changed = await kubectl(['apply', '-f', file]);
      succeeded(t, changed, 'apply of the changed file');
      t.same(lines(changed.stdout), ['configmap/settings configured', 'deployment.apps/web configured']);

      const replicas = await kubectl(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']);
      succeeded(t, replicas, 'get -o jsonpath');
      t.equal(replicas.stdout, '3', 'spec.replicas is the new 3');
      const greeting = await kubectl(['get', 'cm', 'settings', '-o', 'jsonpath={.data.greeting}']);
      t.equal(greeting.stdout, 'bonjour', 'the ConfigMap holds the new value');

      // The API itself, not only kubectl's view of it.
      const stored = await server.request('GET', '/apis/apps/v1/namespaces/default/deployments/web');
      const deployment = stored.json as { metadata: { generation: number }; spec: { template: { spec: { containers: Array<{ env: unknown; command: unknown }> } } } };
      t.equal(stored.status, 200);
      t.equal(deployment.metadata.generation, 2, 'the spec change bumped the generation once');
      t.same(deployment.spec.template.spec.containers[0]?.env, [{ name: 'GREETING', value: 'bonjour' }], 'env merged by name');
      t.same(deployment.spec.template.spec.containers[0]?.command, ['sleep', '3600'], 'command kept');
    });

    await t.test('get -o yaml returns the object with its annotations', async (t) => {
      const result = await kubectl(['get', 'deployment', 'web', '-o', 'yaml']);
      succeeded(t, result, 'get -o yaml');
      const object = parse(result.stdout) as {
        apiVersion: string;
        kind: string;
        metadata: { name: string; uid: string; resourceVersion: string; annotations: Record<string, string> };
        spec: { replicas: number };
      };
      t.equal(object.apiVersion, 'apps/v1');
      t.equal(object.kind, 'Deployment');
      t.equal(object.metadata.name, 'web');
      t.match(object.metadata.uid, /^[0-9a-f-]{36}$/);
      t.match(object.metadata.resourceVersion, /^\d+$/);
      const lastApplied = object.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
      t.type(lastApplied, 'string', 'the last-applied annotation is kept');
      t.match(JSON.parse(lastApplied ?? '{}'), { kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 } }, 'it is the applied file');
    });

    await t.test('get deploy prints the Deployment table', async (t) => {
      const result = await kubectl(['get', 'deploy']);
      succeeded(t, result, 'get deploy');
      const rows = lines(result.stdout).map(cells);
      t.same(rows[0], ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'], 'header');
      t.same(rows[1]?.slice(0, 4), ['web', '0/3', '0', '0'], 'the row (no controller runs in this server)');
      t.match(rows[1]?.[4], /^\d+s$/, 'AGE');
      t.equal(rows.length, 2);
    });

    await t.test('scale changes spec.replicas through the scale subresource', async (t) => {
      const result = await kubectl(['scale', 'deployment', 'web', '--replicas=2']);
      succeeded(t, result, 'scale');
      t.equal(result.stdout.trim(), 'deployment.apps/web scaled');
      const replicas = await kubectl(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']);
      t.equal(replicas.stdout, '2');
    });

    await t.test('describe deployment', async (t) => {
      const result = await kubectl(['describe', 'deployment', 'web']);
      succeeded(t, result, 'describe deployment');
      t.match(result.stdout, /^Name:\s+web$/m);
      t.match(result.stdout, /^Namespace:\s+default$/m);
      t.match(result.stdout, /^Replicas:\s+2 desired/m);
      t.match(result.stdout, /^Selector:\s+app=web$/m);
    });

    await t.test('get -w prints a row for each change', async (t) => {
      const watch = kubectl.watch(['get', 'configmaps', '-w']);
      await watch.waitForOutput(/^settings\s+1\s/m);
      const rowsOf = (name: string) => lines(watch.stdout()).filter((line) => cells(line)[0] === name);
      t.same(cells(lines(watch.stdout())[0] ?? ''), ['NAME', 'DATA', 'AGE'], 'header');

      const create = await server.request('POST', '/api/v1/namespaces/default/configmaps', {
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'watched' }, data: { a: '1' } },
      });
      t.equal(create.status, 201, 'created through the API');
      await waitFor(() => rowsOf('watched').length >= 1, { what: 'the ADDED row' });
      t.same(cells(rowsOf('watched')[0]!).slice(0, 2), ['watched', '1']);

      const patched = await server.request('PATCH', '/api/v1/namespaces/default/configmaps/watched', {
        body: { data: { b: '2' } },
        headers: { 'content-type': 'application/merge-patch+json' },
      });
      t.equal(patched.status, 200, 'patched through the API');
      await waitFor(() => rowsOf('watched').length >= 2, { what: 'the MODIFIED row' });
      t.same(cells(rowsOf('watched')[1]!).slice(0, 2), ['watched', '2'], 'the new DATA count');

      const deleted = await kubectl(['delete', 'configmap', 'watched']);
      succeeded(t, deleted, 'delete configmap');
      await waitFor(() => rowsOf('watched').length >= 3, { what: 'the DELETED row' });
      t.equal(rowsOf('settings').length, 1, 'an existing object is printed once (the list carries a resourceVersion)');
      watch.kill();
    });

    await t.test('errors', async (t) => {
      const missing = await kubectl(['get', 'deployment', 'nope']);
      t.equal(missing.code, 1, 'unknown object: exit 1');
      t.match(missing.stderr, 'Error from server (NotFound): deployments.apps "nope" not found');

      const config = parse(await readFile(server.kubeconfigPath, 'utf8')) as { users: Array<{ user: { token: string } }> };
      config.users[0]!.user.token = 'abcdef.wrong-secret-wrong-secret-wrong-secret-wrong';
      const badConfig = path.join(testDir(t), 'bad-token.kubeconfig');
      await writeFile(badConfig, stringify(config), { mode: 0o600 });
      const refused = await kubectl(['get', 'ns'], { kubeconfig: badConfig });
      t.equal(refused.code, 1, 'bad token: exit 1');
      t.match(refused.stderr, 'You must be logged in to the server');
    });

    await t.test('delete -f deletes what the file names', async (t) => {
      const result = await kubectl(['delete', '-f', file]);
      succeeded(t, result, 'delete -f');
      t.same(lines(result.stdout), ['configmap "settings" deleted', 'deployment.apps "web" deleted']);
      t.equal((await server.request('GET', '/apis/apps/v1/namespaces/default/deployments/web')).status, 404, 'the Deployment is gone');
      t.equal((await server.request('GET', '/api/v1/namespaces/default/configmaps/settings')).status, 404, 'the ConfigMap is gone');
      const empty = await kubectl(['get', 'deploy']);
      succeeded(t, empty, 'get deploy after delete');
      t.match(empty.stderr, 'No resources found in default namespace.');
    });
  });
}

t.test('/usr/bin/kubectl (the gcloud dispatcher) picks its kubectl by our /version', async (t) => {
  const reason = await missing(DISPATCHER, "the Google Cloud SDK's kubectl package of this machine image");
  if (reason) {
    t.skip(`dispatcher: ${reason}`, () => undefined);
    return;
  }
  const server = await startTestServer(t);
  const kubectl = await kubectlFor(t, DISPATCHER, server);
  const version = await kubectl(['version', '-o', 'json']);
  if (succeeded(t, version, 'kubectl version')) {
    const reported = JSON.parse(version.stdout) as { clientVersion: { minor: string; gitVersion: string }; serverVersion: { minor: string } };
    // gcloud's builds report minor "32+"; the dispatcher execs kubectl.1.<server minor>.
    t.equal(Number.parseInt(reported.clientVersion.minor, 10), Number.parseInt(reported.serverVersion.minor, 10), 'it ran the kubectl of the server minor', {
      client: reported.clientVersion.gitVersion,
    });
  }
  const result = await kubectl(['get', 'ns']);
  succeeded(t, result, 'get ns');
  t.match(result.stdout, /^default\s+Active\s/m);
  t.match(result.stdout, /^kube-system\s+Active\s/m);
  t.match(result.stdout, /^kube-node-lease\s+Active\s/m);
});

// A file with several documents is what `apply -f` reads; check the fixture itself parses, so a
// YAML slip shows up here rather than as a kubectl error.
t.test('the manifest fixture is two valid documents', async (t) => {
  const documents = parseAllDocuments(manifest({ replicas: 1, greeting: 'hello' }));
  t.equal(documents.length, 2);
  t.same(documents.map((document) => document.errors), [[], []]);
});
