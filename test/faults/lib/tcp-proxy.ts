// A TCP proxy on 127.0.0.1:0 in front of one upstream (Dovecot's plain POP3 port, or redis-server), with
// switches for the outages the fault suite needs: 'down' (connections refused, open ones cut),
// freezeOpen() (the connections open now stay up but no byte moves either way: a half-open link that
// nothing notices without keepalive; new connections pass), cutAll() (every connection reset now). An optional `tap` sees each connection's bytes in both
// directions and may stop them (POP3: see pop3-tap.ts). The proxy never rewrites bytes.
import { connect, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'down';

/** What a tap decides for the bytes it was shown: forward them, hold them (and all later ones), cut. */
export interface TapVerdict {
  /** Bytes to forward now (a prefix of what was shown, possibly all of it). */
  forward: Buffer;
  /** After forwarding: then 'hold' keeps every later byte of this direction back, 'cut' resets both sockets. */
  next: 'continue' | 'hold' | 'cut';
}

export interface ConnectionTap {
  fromClient(chunk: Buffer): TapVerdict;
  fromServer(chunk: Buffer): TapVerdict;
}

export interface TcpProxy {
  readonly port: number;
  mode: ProxyMode;
  /** Connections accepted so far. */
  readonly accepted: number;
  setMode(mode: ProxyMode): Promise<void>;
  freezeOpen(): void;
  /** Freezes one connection by the id its tap was made with. */
  freeze(id: number): void;
  cutAll(): void;
  stop(): Promise<void>;
}

interface Pair {
  client: Socket;
  server: Socket;
  frozen: boolean;
}

export async function startTcpProxy(options: {
  upstreamPort: number;
  tap?: (id: number, client: Socket) => ConnectionTap;
}): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  const byId = new Map<number, Pair>();
  let mode: ProxyMode = 'pass';
  let accepted = 0;
  let server: Server | undefined;

  const destroy = (pair: Pair) => {
    pair.client.destroy();
    pair.server.destroy();
    pairs.delete(pair);
  };

  const onConnection = (client: Socket) => {
    if (mode === 'down') return void client.destroy();
    const id = ++accepted;
    const upstream = connect(options.upstreamPort, '127.0.0.1');
    const pair: Pair = { client, server: upstream, frozen: false };
    pairs.add(pair);
    byId.set(id, pair);
    upstream.once('close', () => byId.delete(id));
    const tap = options.tap?.(id, client);
    const pipe = (from: Socket, to: Socket, decide: ((chunk: Buffer) => TapVerdict) | undefined) => {
      let held = false;
      from.on('data', (chunk: Buffer) => {
        if (held) return;
        const verdict = decide ? decide(chunk) : { forward: chunk, next: 'continue' as const };
        // A frozen pair swallows bytes: the peer's TCP stack acknowledged them, nothing ever arrives.
        if (verdict.forward.length > 0 && !pair.frozen) to.write(verdict.forward);
        // Nothing more moves after a hold or a cut: a late chunk must never follow bytes that were dropped.
        if (verdict.next !== 'continue') held = true;
        // A cut lets the forwarded prefix leave first, then resets both ends.
        if (verdict.next === 'cut') setImmediate(() => destroy(pair));
      });
      from.on('error', () => destroy(pair));
      // A peer that goes away takes the other side with it, held bytes never delivered.
      from.on('close', () => destroy(pair));
    };
    pipe(client, upstream, tap && ((chunk) => tap.fromClient(chunk)));
    pipe(upstream, client, tap && ((chunk) => tap.fromServer(chunk)));
  };

  const listen = async (port: number) => {
    server = createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
    return (server.address() as { port: number }).port;
  };
  const unlisten = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = undefined;
      if (!s) return resolve();
      s.close(() => resolve());
    });

  const port = await listen(0);
  const proxy: TcpProxy = {
    port,
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    async setMode(next) {
      const previous = mode;
      mode = next;
      if (next === 'down') {
        for (const pair of [...pairs]) destroy(pair);
        await unlisten();
      } else if (previous === 'down') {
        await listen(port);
      }
    },
    freezeOpen() {
      for (const pair of pairs) pair.frozen = true;
    },
    freeze(id) {
      const pair = byId.get(id);
      if (pair) pair.frozen = true;
    },
    cutAll() {
      for (const pair of [...pairs]) destroy(pair);
    },
    async stop() {
      for (const pair of [...pairs]) destroy(pair);
      await unlisten();
    },
  };
  return proxy;
}
