/**
 * `pm8s exec POD [-c C] -- CMD…`: runs CMD beside a running container through the `pods/exec`
 * subresource, streams its stdout and stderr, and leaves its exit code as ours, as kubectl exec
 * does. The agent answers with exec frames (src/api/exec-frames.ts); kubectl's SPDY/websocket
 * protocol is not spoken, and there is no stdin or TTY.
 */
import { StringDecoder } from 'node:string_decoder';
import { ApiError } from '../api/errors.js';
import { EXEC_CHANNEL, ExecFrameDecoder, parseExecStatus, type ExecStatus } from '../api/exec-frames.js';
import type { Pod } from '../api/kinds/pod.js';
import { resolveResource } from '../api/resources.js';
import type { HttpClient } from '../client/http-client.js';
import { ConnectionError } from '../client/http-errors.js';
import { withClient } from './client.js';
import type { CliContext, GlobalFlags } from './context.js';
import { CliError } from './errors.js';
import { processOutput, type Output } from './output.js';

export interface ExecFlags {
  container?: string;
  namespace?: string;
}

const pods = resolveResource('pods')!;
const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

export async function runExec(podArg: string, command: string[], flags: ExecFlags, globals: GlobalFlags, context: CliContext): Promise<void> {
  const name = podName(podArg);
  if (command.length === 0) throw new CliError('Usage', 'you must specify at least one command for the container, after --: pm8s exec POD -- COMMAND [args...]');
  await withClient(globals, async (client) => {
    const namespace = flags.namespace ?? client.namespace;
    const pod = (await client.get(pods, namespace, name)) as unknown as Pod;
    const container = flags.container ?? defaultContainer(pod, context.output);
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') throw new CliError('Usage', `cannot exec into a container in a completed pod; current phase is ${phase}`);
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/exec`;
    const status = await streamFrames(client, path, { container, command }, context.output);
    if ('exitCode' in status) {
      if (status.exitCode !== 0) context.output.err(`command terminated with exit code ${status.exitCode}\n`);
      context.exitCode = status.exitCode;
      return;
    }
    throw new ApiError(status.code, status.reason === '' ? 'InternalError' : status.reason, status.message, status.details);
  });
}

/** `NAME`, `pod/NAME` or `pods/NAME`. */
function podName(arg: string): string {
  const slash = arg.indexOf('/');
  if (slash === -1) return arg;
  const info = resolveResource(arg.slice(0, slash));
  if (info !== pods) throw new CliError('NotSupported', `pm8s exec runs in pods only, not in ${arg.slice(0, slash)}`);
  return arg.slice(slash + 1);
}

/** kubectl's choice: the default-container annotation, else the first container (saying so when there are several). */
function defaultContainer(pod: Pod, output: Output): string {
  const names = pod.spec.containers.map((container) => container.name);
  const annotated = pod.metadata.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (annotated !== undefined && names.includes(annotated)) return annotated;
  const first = names[0] ?? '';
  if (names.length > 1) output.err(`Defaulted container "${first}" out of: ${names.join(', ')}\n`);
  return first;
}

/** Writes stdout and stderr frames as they come (bytes as is to a real stdout) and resolves with the status frame. */
async function streamFrames(client: HttpClient, path: string, query: { container: string; command: string[] }, output: Output): Promise<ExecStatus> {
  const { response, cancel } = await client.stream('POST', path, query);
  const decoder = new ExecFrameDecoder();
  const text = { [EXEC_CHANNEL.stdout]: new StringDecoder('utf8'), [EXEC_CHANNEL.stderr]: new StringDecoder('utf8') };
  let status: ExecStatus | undefined;
  try {
    for await (const chunk of response) {
      for (const frame of decoder.push(chunk as Buffer)) {
        if (frame.channel === EXEC_CHANNEL.status) status = parseExecStatus(frame.payload);
        else if (output === processOutput) await writeRaw(frame.channel === EXEC_CHANNEL.stdout ? process.stdout : process.stderr, frame.payload);
        else if (frame.channel === EXEC_CHANNEL.stdout) output.out(text[1].write(frame.payload));
        else output.err(text[2].write(frame.payload));
      }
    }
  } catch (error) {
    if (error instanceof ApiError || error instanceof ConnectionError) throw error;
    throw new ConnectionError('ConnectionFailed', client.server, `the exec stream broke: ${(error as Error).message}`, { cause: error });
  } finally {
    cancel();
  }
  if (output !== processOutput) {
    output.out(text[1].end());
    output.err(text[2].end());
  }
  if (status === undefined) throw new ConnectionError('BadResponse', client.server, 'the exec stream ended before the command reported its exit status');
  return status;
}

/** Keeps binary output intact and holds the stream while our own stdout is slow. */
function writeRaw(stream: NodeJS.WriteStream, bytes: Buffer): Promise<void> | undefined {
  if (stream.write(bytes)) return undefined;
  return new Promise((resolve) => stream.once('drain', resolve));
}
