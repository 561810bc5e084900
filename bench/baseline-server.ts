/**
 * The transport baseline: a bare Node HTTPS server with the same certificate that answers every
 * request with a small fixed JSON object (POST echoes the body), and a watch path that streams
 * one line per POST. What pm8s adds on top of this is the cost of the API itself.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { ServerResponse } from 'node:http';

const [certPath, keyPath] = process.argv.slice(2);
if (!certPath || !keyPath) throw new Error('usage: baseline-server CERT KEY');
const watchers = new Set<ServerResponse>();
const stored = new Map<string, string>();

const server = https.createServer({ cert: readFileSync(certPath), key: readFileSync(keyPath) }, (request, response) => {
  if (request.url?.includes('watch=true')) {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.flushHeaders();
    watchers.add(response);
    response.on('close', () => watchers.delete(response));
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (request.method === 'POST') {
      const name = (JSON.parse(body) as { metadata: { name: string } }).metadata.name;
      stored.set(name, body);
      const line = `{"type":"ADDED","object":${body}}\n`;
      for (const watcher of watchers) watcher.write(line);
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(body);
      return;
    }
    if (request.url?.endsWith('/configmaps') || request.url?.includes('/configmaps?')) {
      const items = [...stored.values()].join(',');
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(`{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[${items}]}`);
      return;
    }
    const name = decodeURIComponent(request.url?.split('/').pop() ?? '');
    const found = stored.get(name);
    response.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
    response.end(found ?? '{"kind":"Status","code":404}');
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
