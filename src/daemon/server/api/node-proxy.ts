/**
 * Reaches a node's agent for the pod subresources that live there (log, exec) and for usage
 * stats: finds the node from the pod's `spec.nodeName`, connects to the node API at its InternalIP
 * and `daemonEndpoints.kubeletEndpoint.Port`, verifies the agent's certificate against the CA the
 * agent published on its Node, authenticates with the server's own internal token, and streams the
 * answer back. A client that goes away aborts the upstream request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import { ApiError, badRequest } from '../../../api/errors.js';
import { resolveResource } from '../../../api/resources.js';
import type { KubeObject } from '../../../api/types.js';
import { isRecord } from '../../../api/types.js';
import { NODE_API_CA_ANNOTATION } from '../../../api/well-known.js';
import type { ObjectApi } from './object-api.js';

const nodes = resolveResource('nodes')!;

export interface NodeEndpoint {
  host: string;
  port: number;
  caPem: string;
}

export interface NodeProxy {
  /** Streams `GET|POST <path>?<query>` on the pod's node to `response`. */
  toPod(request: IncomingMessage, response: ServerResponse, pod: KubeObject, path: string, query: URLSearchParams): Promise<void>;
  /** Fetches a JSON document from a node's API (stats). */
  getJson(nodeName: string, path: string, timeoutMs?: number): Promise<unknown>;
}

export function createNodeProxy(api: ObjectApi, token: string): NodeProxy {
  async function endpoint(nodeName: string): Promise<NodeEndpoint> {
    const node = await api.get(nodes, undefined, nodeName);
    return nodeEndpoint(node);
  }

  return {
    async toPod(request, response, pod, path, query) {
      const nodeName = isRecord(pod.spec) ? (pod.spec.nodeName as string | undefined) : undefined;
      if (!nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
      const target = await endpoint(nodeName);
      const upstream = https.request({
        host: target.host,
        port: target.port,
        method: request.method === 'GET' ? 'GET' : 'POST',
        path: `${path}${query.size > 0 ? `?${query.toString()}` : ''}`,
        ca: target.caPem,
        headers: { authorization: `Bearer ${token}`, accept: request.headers.accept ?? '*/*' },
        agent: false,
      });
      response.on('close', () => upstream.destroy());
      const answer = await new Promise<IncomingMessage>((resolve, reject) => {
        upstream.once('response', resolve);
        upstream.once('error', (error) => reject(unreachable(nodeName, target, path, error)));
        upstream.end();
      });
      const headers: Record<string, string> = { 'content-type': answer.headers['content-type'] ?? 'application/octet-stream', 'cache-control': 'no-cache' };
      response.writeHead(answer.statusCode ?? 502, headers);
      response.flushHeaders();
      await new Promise<void>((resolve) => {
        answer.pipe(response);
        answer.once('end', resolve);
        // The agent went away mid-stream: cut the client's stream too, so it does not hang.
        const cut = () => {
          response.destroy();
          resolve();
        };
        answer.once('error', cut);
        answer.once('aborted', cut);
        response.once('close', resolve);
      });
    },

    async getJson(nodeName, path, timeoutMs = 5000) {
      const target = await endpoint(nodeName);
      return new Promise((resolve, reject) => {
        const upstream = https.request({ host: target.host, port: target.port, path, ca: target.caPem, headers: { authorization: `Bearer ${token}` }, agent: false, timeout: timeoutMs }, (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if ((answer.statusCode ?? 500) >= 400) return reject(new ApiError(503, 'ServiceUnavailable', `node ${nodeName} answered ${answer.statusCode}: ${text.slice(0, 200)}`));
            try {
              resolve(JSON.parse(text));
            } catch {
              reject(new ApiError(503, 'ServiceUnavailable', `node ${nodeName} sent invalid JSON for ${path}`));
            }
          });
          answer.on('error', (error) => reject(unreachable(nodeName, target, path, error)));
        });
        upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
        upstream.on('error', (error) => reject(unreachable(nodeName, target, path, error)));
        upstream.end();
      });
    },
  };
}

/** Where a node's API is, from its status and the CA annotation its agent wrote. */
export function nodeEndpoint(node: KubeObject): NodeEndpoint {
  const status = isRecord(node.status) ? node.status : {};
  const addresses = Array.isArray(status.addresses) ? (status.addresses as Array<{ type?: string; address?: string }>) : [];
  const host = addresses.find((address) => address.type === 'InternalIP')?.address;
  const endpoints = isRecord(status.daemonEndpoints) ? status.daemonEndpoints : {};
  const port = isRecord(endpoints.kubeletEndpoint) ? Number(endpoints.kubeletEndpoint.Port) : NaN;
  const ca = node.metadata.annotations?.[NODE_API_CA_ANNOTATION];
  if (host === undefined || !Number.isInteger(port) || port <= 0 || ca === undefined) {
    throw new ApiError(503, 'ServiceUnavailable', `node ${node.metadata.name} has no pm8s agent API registered (no InternalIP, kubelet port or ${NODE_API_CA_ANNOTATION})`);
  }
  return { host, port, caPem: Buffer.from(ca, 'base64').toString('utf8') };
}

function unreachable(nodeName: string, target: NodeEndpoint, path: string, error: Error): ApiError {
  return new ApiError(503, 'ServiceUnavailable', `cannot reach the agent of node ${nodeName}: Get "https://${target.host}:${target.port}${path}": ${error.message}`);
}
