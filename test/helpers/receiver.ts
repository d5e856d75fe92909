// A real Standard Webhooks receiver for integration tests: node:http on 127.0.0.1, each request verified
// with the official `standardwebhooks` package, recorded, and answered by a scriptable policy.
//
//   const rx = await startReceiver({ secret });            // answers 200 when verified, 401 otherwise
//   await rx.setRespond([500, { status: 429, headers: { 'retry-after': '1' } }, 200]);  // a sequence
//   await rx.setRespond(({ webhookId, attempt }) => (attempt < 3 ? 503 : 200));         // per webhook-id
//   await rx.setRespond({ status: 200, delayMs: 5_000 });  // a slow receiver (bodyDelayMs: slow body)
//   await rx.setRespond('drop');                           // read the request, destroy the socket
//   await rx.setRespond('down');                           // stop listening: connections are refused;
//   await rx.setRespond(200);                              // ...and back up on the same port
//   await rx.waitFor((ds) => ds.some((d) => d.webhookId === id && d.status === 200), 5_000);
//   rx.byWebhookId().get(id);  rx.clear();  await rx.stop();
//
// Policies: a status; a Reply ({ status, headers, body, delayMs, bodyDelayMs }); 'drop'; an array
// played in order, one entry per request, its last entry repeating (restarted by setRespond); a function
// of the request (sync or async) returning any of those; or 'down'. A delivery is recorded once its
// body is read and its answer decided, before any delay; `answered` turns true when the answer was sent
// in full. Bodies above `maxBodyBytes` (200 MiB) are answered 413 and recorded with an empty body.
// A policy function that throws gets that request's socket destroyed (the client sees a reset).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Wait this long before answering (the client may give up meanwhile). */
  delayMs?: number;
  /** Send the status line and headers at once, the body after this long. */
  bodyDelayMs?: number;
}

export type ReplySpec = number | Reply | 'drop';

/** What a policy function sees: the delivery as it will be recorded, before its status is known. */
export type ReceivedRequest = Omit<Delivery, 'status' | 'answered'>;

export type Respond =
  | ReplySpec
  | readonly ReplySpec[]
  | 'down'
  | ((request: ReceivedRequest) => ReplySpec | Promise<ReplySpec>);

export interface Delivery {
  /** The `webhook-id` header ('' when absent). */
  webhookId: string;
  /** `webhook-timestamp` as a number (NaN when absent or unreadable). */
  timestamp: number;
  signature: string;
  body: Buffer;
  /** The parsed body, undefined when it is not JSON. */
  json: unknown;
  verified: boolean;
  /** Why `standardwebhooks` refused it. */
  verifyError?: string;
  /** 1 for the first request carrying this webhook-id, 2 for the next... */
  attempt: number;
  status: number | 'drop';
  answered: boolean;
  receivedAt: Date;
  method: string;
  path: string;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** The client's port: the same port on two deliveries means a reused keep-alive connection. */
  remotePort: number;
  tooLarge: boolean;
}

export interface ReceiverOptions {
  secret: string;
  respond?: Respond;
  maxBodyBytes?: number;
  /**
   * false: each delivery is recorded without its bytes (`body` empty, `json` undefined), for runs of
   * thousands (the benchmark), where keeping and parsing every body cost as much CPU as the verification;
   * the signature is checked over the whole body all the same. Default true.
   */
  keepBodies?: boolean;
}

export interface Receiver {
  /** `http://127.0.0.1:<port>/webhook`; other paths are received (and recorded) too. */
  readonly url: string;
  readonly port: number;
  readonly deliveries: readonly Delivery[];
  byWebhookId(): Map<string, Delivery[]>;
  /** How many deliveries were answered 200, kept as a count: a caller polling it does not walk the list. */
  acceptedCount(): number;
  /** Replace the policy; resolves once the server is down or listening again as the policy needs. */
  setRespond(respond: Respond): Promise<void>;
  /** Resolves with the deliveries once `predicate` holds for them; rejects after `timeoutMs`. */
  waitFor(predicate: (deliveries: readonly Delivery[]) => boolean, timeoutMs?: number): Promise<Delivery[]>;
  /** Forget the recorded deliveries (attempt numbers start again). */
  clear(): void;
  stop(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 200 * 1024 * 1024;
const NO_BODY = Buffer.alloc(0);
const verifiedOr401: Respond = (request) => (request.verified ? 200 : 401);

interface Waiter {
  predicate: (deliveries: readonly Delivery[]) => boolean;
  resolve: (deliveries: Delivery[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  const verifier = new Webhook(options.secret);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const deliveries: Delivery[] = [];
  // Requests per webhook-id so far: each request's attempt number without a walk over every delivery.
  const attempts = new Map<string, number>();
  let accepted = 0;
  const waiters = new Set<Waiter>();
  const timers = new Set<NodeJS.Timeout>();
  let respond: Respond = options.respond ?? verifiedOr401;
  let sequenceIndex = 0;
  let listening = false;
  let stopped = false;

  const notify = () => {
    for (const waiter of waiters) settleWaiter(waiter, deliveries, waiters);
  };

  const sleep = (ms: number, res: ServerResponse) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      timers.add(timer);
      res.once('close', done);
      function done() {
        clearTimeout(timer);
        timers.delete(timer);
        res.off('close', done);
        resolve();
      }
    });

  const pickReply = async (request: ReceivedRequest): Promise<ReplySpec> => {
    const policy = respond;
    if (policy === 'down') return 'drop'; // a request that slipped in while going down
    if (typeof policy === 'function') return policy(request);
    if (Array.isArray(policy)) {
      const entry = policy[Math.min(sequenceIndex++, policy.length - 1)];
      return entry ?? 200;
    }
    return policy as ReplySpec;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const { body, tooLarge } = await readBody(req, maxBodyBytes);
    const request = inspect(req, body, tooLarge, verifier, attempts, options.keepBodies ?? true);
    const spec: ReplySpec = tooLarge
      ? { status: 413, headers: { connection: 'close' } }
      : await pickReply(request);
    const reply = typeof spec === 'number' ? { status: spec } : spec;
    const delivery: Delivery = {
      ...request,
      status: reply === 'drop' ? 'drop' : reply.status,
      answered: false,
    };
    deliveries.push(delivery);
    if (delivery.status === 200) accepted++;
    notify();
    if (reply === 'drop') {
      req.socket.destroy();
      return;
    }
    res.once('finish', () => {
      delivery.answered = true;
      notify();
    });
    await answer(res, reply, sleep);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        listening = true;
        resolve();
      });
    });

  const unlisten = () =>
    new Promise<void>((resolve) => {
      if (!listening) return resolve();
      listening = false;
      server.close(() => resolve());
      server.closeAllConnections();
    });

  await listen(0);
  const port = (server.address() as AddressInfo).port;
  if (respond === 'down') await unlisten();

  return {
    url: `http://127.0.0.1:${port}/webhook`,
    port,
    deliveries,
    byWebhookId: () => groupByWebhookId(deliveries),
    acceptedCount: () => accepted,
    async setRespond(next) {
      respond = next;
      sequenceIndex = 0;
      if (stopped) return;
      if (next === 'down') await unlisten();
      else if (!listening) await listen(port);
    },
    waitFor(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`receiver.waitFor: not met after ${timeoutMs} ms (${summarize(deliveries)})`));
        }, timeoutMs);
        const waiter: Waiter = { predicate, resolve, reject, timer };
        waiters.add(waiter);
        settleWaiter(waiter, deliveries, waiters);
      });
    },
    clear() {
      deliveries.length = 0;
      attempts.clear();
      accepted = 0;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error('receiver stopped'));
      }
      waiters.clear();
      await unlisten();
    },
  };
}

function settleWaiter(waiter: Waiter, deliveries: Delivery[], waiters: Set<Waiter>): void {
  let met: boolean;
  try {
    met = waiter.predicate(deliveries);
  } catch (error) {
    waiters.delete(waiter);
    clearTimeout(waiter.timer);
    waiter.reject(error as Error);
    return;
  }
  if (!met) return;
  waiters.delete(waiter);
  clearTimeout(waiter.timer);
  waiter.resolve([...deliveries]);
}

/** The request body, or an empty one when it passes `maxBytes` (the rest is read and thrown away). */
async function readBody(
  req: IncomingMessage,
  maxBytes: number,
): Promise<{ body: Buffer; tooLarge: boolean }> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = declared > maxBytes;
  if (tooLarge) return { body: Buffer.alloc(0), tooLarge };
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  }
  return { body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge };
}

function inspect(
  req: IncomingMessage,
  body: Buffer,
  tooLarge: boolean,
  verifier: Webhook,
  attempts: Map<string, number>,
  keepBody: boolean,
): ReceivedRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const webhookId = headers['webhook-id'] ?? '';
  const attempt = (attempts.get(webhookId) ?? 0) + 1;
  attempts.set(webhookId, attempt);
  let verifyError: string | undefined;
  try {
    verifier.verify(body, headers, { jsonParse: false });
  } catch (error) {
    verifyError = (error as Error).message;
  }
  return {
    webhookId,
    timestamp: Number(headers['webhook-timestamp'] ?? Number.NaN),
    signature: headers['webhook-signature'] ?? '',
    body: keepBody ? body : NO_BODY,
    json: keepBody ? parseJson(body) : undefined,
    verified: verifyError === undefined && !tooLarge,
    ...(verifyError === undefined ? {} : { verifyError }),
    attempt,
    receivedAt: new Date(),
    method: req.method ?? '',
    path: req.url ?? '',
    headers,
    remotePort: req.socket.remotePort ?? 0,
    tooLarge,
  };
}

async function answer(
  res: ServerResponse,
  reply: Reply,
  sleep: (ms: number, res: ServerResponse) => Promise<void>,
): Promise<void> {
  if (reply.delayMs) await sleep(reply.delayMs, res);
  if (res.destroyed) return;
  res.writeHead(reply.status, reply.headers);
  if (reply.bodyDelayMs) {
    res.flushHeaders();
    await sleep(reply.bodyDelayMs, res);
    if (res.destroyed) return;
  }
  res.end(reply.body);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function groupByWebhookId(deliveries: readonly Delivery[]): Map<string, Delivery[]> {
  const groups = new Map<string, Delivery[]>();
  for (const delivery of deliveries) {
    const group = groups.get(delivery.webhookId) ?? [];
    group.push(delivery);
    groups.set(delivery.webhookId, group);
  }
  return groups;
}

function summarize(deliveries: readonly Delivery[]): string {
  const tail = deliveries.slice(-5).map((d) => `${d.webhookId || '-'}#${d.attempt}:${d.status}`);
  return `${deliveries.length} deliveries, last: ${tail.join(' ') || 'none'}`;
}
