/**
 * A TCP proxy on 127.0.0.1 that can turn into a black hole: connections stay open but nothing
 * passes either way, as when a server's machine vanishes from the network (no reset, no refusal).
 * `restore()` resets the held connections, so clients reconnect, and forwards again. Closed at teardown.
 */
import net from 'node:net';
import type { Test } from 'tap';

export interface TcpProxy {
  port: number;
  blackhole(): void;
  restore(): void;
}

export async function startTcpProxy(t: Test, targetPort: number): Promise<TcpProxy> {
  let dark = false;
  const live = new Set<{ client: net.Socket; upstream: net.Socket }>();
  const held = new Set<net.Socket>();
  const server = net.createServer((client) => {
    client.on('error', () => undefined);
    if (dark) {
      client.pause();
      held.add(client);
      client.on('close', () => held.delete(client));
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const pair = { client, upstream };
    live.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const forget = () => {
      live.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', forget);
    upstream.on('close', () => {
      if (live.has(pair)) forget();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const { client, upstream } of live) {
      client.destroy();
      upstream.destroy();
    }
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    blackhole() {
      dark = true;
      for (const pair of live) {
        // Nothing more passes; the sockets stay open, as a vanished peer's would.
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        pair.client.pause();
        pair.upstream.pause();
        held.add(pair.client);
        pair.client.on('close', () => held.delete(pair.client));
        live.delete(pair);
        pair.upstream.destroy();
      }
    },
    restore() {
      dark = false;
      for (const socket of held) socket.destroy();
      held.clear();
    },
  };
}
