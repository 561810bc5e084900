/** The HttpClient a command talks through, from the global --kubeconfig/--context flags. */
import { HttpClient } from '../client/http-client.js';
import type { GlobalFlags } from './context.js';

export async function clientFor(globals: GlobalFlags): Promise<HttpClient> {
  return HttpClient.fromKubeconfig({
    ...(globals.kubeconfig ? { kubeconfig: globals.kubeconfig } : {}),
    ...(globals.context ? { context: globals.context } : {}),
  });
}

/** Runs `work` with a client and always releases its pooled connections, so the process can exit. */
export async function withClient<T>(globals: GlobalFlags, work: (client: HttpClient) => Promise<T>): Promise<T> {
  const client = await clientFor(globals);
  try {
    return await work(client);
  } finally {
    client.close();
  }
}
