/** tcpSocket probe (Kubernetes pkg/probe/tcp): healthy when a connection opens within the timeout. */
import net from 'node:net';
import type { ProbeResult } from './probe-result.js';
import { abortedResult, deadlineSignal, dialErrorMessage, joinHostPort } from './probe-result.js';

export interface TcpProbeOptions {
  host: string;
  port: number;
  timeoutMs: number;
  signal: AbortSignal;
}

export function runTcpProbe(options: TcpProbeOptions): Promise<ProbeResult> {
  const { host, port } = options;
  return new Promise((resolve) => {
    const deadline = deadlineSignal(options.signal, options.timeoutMs);
    const socket = net.connect({ host, port });
    let settled = false;
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      deadline.dispose();
      deadline.signal.removeEventListener('abort', onDeadline);
      socket.destroy();
      resolve(result);
    };
    const onDeadline = () => finish(deadline.timedOut() ? { outcome: 'failure', message: `dial tcp ${joinHostPort(host, port)}: i/o timeout` } : abortedResult());
    deadline.signal.addEventListener('abort', onDeadline, { once: true });
    // Kubernetes only opens and closes the connection; nothing is written.
    socket.once('connect', () => finish({ outcome: 'success', message: '' }));
    socket.once('error', (error: NodeJS.ErrnoException) => finish({ outcome: 'failure', message: dialErrorMessage(error, host, port) }));
  });
}
