// The ops HTTP listener (node:http, no framework): a small route table, JSON and text replies, a bounded
// request body, and bearer-token auth for the dashboard and its API. Without a configured token those
// routes answer 404 (they don't exist), while /metrics and the health endpoints stay open. Tokens are
// compared in constant time over their SHA-256 digests, so neither content nor length leaks by timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, silentLogger } from '../telemetry/logger.ts';

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  /** Behind `Authorization: Bearer <token>`; 404 when no token is configured. */
  auth?: boolean;
  handle(request: { url: URL; body: unknown }): Promise<Reply> | Reply;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  token?: string;
  routes: readonly Route[];
  logger?: Logger;
}

export interface OpsHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

export const json = (status: number, value: unknown): Reply => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: `${JSON.stringify(value, null, 2)}\n`,
});

/** Constant-time check of an Authorization header against the configured token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  const given = createHash('sha256')
    .update(match?.[1] ?? '')
    .digest();
  const wanted = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, wanted) && match !== null;
}

export async function startHttpServer(options: HttpServerOptions): Promise<OpsHttpServer> {
  const logger = options.logger ?? silentLogger;
  const server = createServer((req, res) => {
    route(options, req)
      .then((reply) => send(res, reply))
      .catch((error: unknown) => {
        logger.warn({ err: (error as Error).message, path: req.url }, 'ops http request failed');
        send(res, json(500, { error: 'internal error' }));
      });
  });
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

async function route(options: HttpServerOptions, req: IncomingMessage): Promise<Reply> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const candidates = options.routes.filter((r) => r.path === url.pathname);
  const found = candidates.find((r) => r.method === req.method);
  if (candidates.length === 0 || (found?.auth && !options.token)) {
    return json(404, { error: 'not found' });
  }
  if (!found)
    return { ...json(405, { error: 'method not allowed' }), headers: { allow: allowed(candidates) } };
  if (found.auth && !bearerMatches(req.headers.authorization, options.token ?? '')) {
    const reply = json(401, { error: 'a valid bearer token is required' });
    return { ...reply, headers: { ...reply.headers, 'www-authenticate': 'Bearer' } };
  }
  const body = req.method === 'POST' ? await readJson(req) : undefined;
  if (body instanceof Error) return json(400, { error: body.message });
  return found.handle({ url, body });
}

function allowed(routes: readonly Route[]): string {
  return routes.map((r) => r.method).join(', ');
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return new Error('request body is not JSON');
  }
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return;
  res.writeHead(reply.status, { 'x-content-type-options': 'nosniff', ...reply.headers });
  res.end(reply.body);
}
