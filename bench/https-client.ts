/** A minimal keep-alive HTTPS JSON client for benchmarks: the same transport for pm8s and the baseline. */
import https from 'node:https';

export interface BenchClient {
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }>;
  /** Opens a watch and calls `onLine` for each non-empty line. */
  stream(path: string, onLine: (line: string) => void): Promise<() => void>;
  close(): void;
}

export function benchClient(base: string, options: { ca?: string; token?: string; maxSockets?: number }): BenchClient {
  const agent = new https.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64, ...(options.ca ? { ca: options.ca } : {}) });
  const url = new URL(base);
  const headers = (extra: Record<string, string>): Record<string, string> => ({
    accept: 'application/json',
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...extra,
  });
  return {
    request(method, path, body) {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const request = https.request(
          { host: url.hostname, port: url.port, path, method, agent, headers: headers(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}) },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
            response.on('error', reject);
          },
        );
        request.on('error', reject);
        request.end(payload);
      });
    },
    stream(path, onLine) {
      return new Promise((resolve, reject) => {
        const request = https.request({ host: url.hostname, port: url.port, path, method: 'GET', agent: false, ...(options.ca ? { ca: options.ca } : {}), headers: headers({}) }, (response) => {
          let buffered = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            buffered += chunk;
            let newline: number;
            while ((newline = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, newline);
              buffered = buffered.slice(newline + 1);
              if (line.trim()) onLine(line);
            }
          });
          // Stopping destroys the request; the resulting stream error is the expected end.
          response.on('error', () => request.destroy());
          resolve(() => request.destroy());
        });
        request.on('error', reject);
        request.end();
      });
    },
    close: () => agent.destroy(),
  };
}
