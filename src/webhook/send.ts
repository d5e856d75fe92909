// One signed POST to a webhook over a shared undici Agent (a keep-alive pool per origin), turned into
// a result or a coded PophookError that says whether a retry can help. Redirects are never followed
// (undici 7 follows none without its redirect interceptor). Neither the secret nor any header value
// ever reaches an error or a log line: headers may carry tokens. A body too big to hold is a
// ReplayableBody (a spooled file): read once for the signature, which must be in the headers, then again
// as the request body, with its content-length known beforehand.
import { Readable } from 'node:stream';
import { RESERVED_HEADERS } from '../config/index.ts';
import { PophookError } from '../errors.ts';
import { memoized } from '../memo.ts';
import { type Logger, silentLogger } from '../telemetry/logger.ts';
import { type Agent, createAgent } from '../undici.ts';
import { type ExchangeAnswer, ExchangeFailed, exchange } from './exchange.ts';
import { classifyStatus, parseRetryAfter, type StatusClass } from './policy.ts';
import { signatureHeaderOf, type WebhookSecret, webhookHeaders } from './sign.ts';

export interface WebhookTarget {
  /** The webhook's id in the configuration (`webhooks.<id>`), carried in error details as `webhook`. */
  id: string;
  url: string;
  secret: WebhookSecret;
  /** Covers connect, request, response headers and reading the response body. */
  timeoutMs: number;
  /** Extra request headers; the Standard Webhooks ones, content-type and content-length are ours. */
  headers: Record<string, string>;
}

/** A body that can be read more than once, each time from its start, and whose length is known. */
export interface ReplayableBody {
  byteLength: number;
  /** The chunks to send: each one is new (the socket may hold it after the write). */
  open(): AsyncIterable<Buffer>;
  /**
   * The same bytes for signing, where a chunk is done with before the next is asked for, so one buffer
   * can serve them all (no garbage as big as the body). open() is used when absent.
   */
  scan?(): AsyncIterable<Buffer>;
}

export interface WebhookMessage {
  /** The `webhook-id`: the same on every attempt. */
  webhookId: string;
  body: Buffer | ReplayableBody;
  /** The attempt's time, now when omitted (each attempt is signed afresh). */
  timestamp?: Date;
}

export interface SendResult {
  status: number;
  durationMs: number;
}

export interface WebhookSenderOptions {
  logger?: Logger;
  /** Idle keep-alive sockets are closed after this (undici's default; servers often allow 5 s). */
  keepAliveTimeoutMs?: number;
  /** At most this many sockets per origin; unlimited by default (the worker's concurrency bounds it). */
  connectionsPerOrigin?: number;
}

/** Headers the sender sets itself; the config refuses them too, this keeps a hand-built target honest. */
const RESERVED = new Set(RESERVED_HEADERS);
// Up to this much of a response body is read so its socket can be reused; past it the socket is dropped.
const DRAIN_LIMIT_BYTES = 64 * 1024;
/** What an operator sees of a refusal (`pophook dlq show`): the first KiB of the receiver's answer. */
const EXCERPT_BYTES = 1024;
/** The first line of an answer shown by `pophook check` stops here. */
const FIRST_LINE_CHARS = 200;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

type Details = Record<string, unknown>;

export class WebhookSender {
  readonly #agent: Agent;
  readonly #logger: Logger;
  #closing: Promise<void> | undefined;

  constructor(options: WebhookSenderOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#agent = createAgent({
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
      keepAliveMaxTimeout: 10 * 60_000,
      connections: options.connectionsPerOrigin ?? null,
    });
  }

  /**
   * POST `message` to `target`, signed with a fresh timestamp. Resolves on 2xx; otherwise rejects with a
   * PophookError (WEBHOOK_HTTP_4XX, WEBHOOK_HTTP_RETRYABLE, WEBHOOK_REDIRECT, WEBHOOK_TIMEOUT,
   * WEBHOOK_NETWORK, WEBHOOK_INVALID_REQUEST) whose details hold `webhook`, `webhookId` and, when an
   * answer came, `status`, `statusText` (the reason phrase), `bodyExcerpt` (its first EXCERPT_BYTES,
   * control characters replaced) and maybe `retryAfterMs`. Rejects with `signal.reason` when the
   * caller aborts.
   */
  async send(
    target: WebhookTarget,
    message: WebhookMessage,
    opts: { signal?: AbortSignal } = {},
  ): Promise<SendResult> {
    const details: Details = { webhook: target.id, webhookId: message.webhookId };
    const url = parseTarget(target.url, details);
    const timestamp = Math.floor((message.timestamp?.getTime() ?? Date.now()) / 1000);
    const headers = await signedHeaders(target, message, timestamp);
    const started = performance.now();
    const answer = await exchange(this.#agent, {
      url,
      headers,
      body: Buffer.isBuffer(message.body) ? message.body : Readable.from(message.body.open()),
      timeoutMs: target.timeoutMs,
      signal: opts.signal,
      // A 2xx keeps nothing; an error keeps the excerpt an operator sees.
      keepBytes: (status) => (classifyStatus(status) === 'success' ? 0 : EXCERPT_BYTES),
      drainLimitBytes: DRAIN_LIMIT_BYTES,
    }).catch((error: unknown) => {
      throw requestError(error, opts.signal, details);
    });
    const verdict = classifyStatus(answer.status);
    const durationMs = Math.round(performance.now() - started);
    this.#logger.debug({ ...details, status: answer.status, durationMs }, 'webhook answered');
    if (verdict === 'success') return { status: answer.status, durationMs };
    throw statusError(verdict, answer, { ...details, durationMs });
  }

  /** Lets in-flight requests finish, then closes every socket. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#agent.close();
    return this.#closing;
  }
}

async function signedHeaders(
  target: WebhookTarget,
  message: WebhookMessage,
  timestamp: number,
): Promise<Record<string, string>> {
  const { body, webhookId } = message;
  if (Buffer.isBuffer(body)) {
    return { ...customHeaders(target.headers), ...webhookHeaders(target.secret, webhookId, timestamp, body) };
  }
  // Empty iterable: the headers without the signature, which the streamed pass then fills in.
  const base = webhookHeaders(target.secret, webhookId, timestamp, []);
  const signature = await signatureHeaderOf(target.secret, webhookId, timestamp, (body.scan ?? body.open)());
  return {
    ...customHeaders(target.headers),
    ...base,
    'webhook-signature': signature,
    'content-length': String(body.byteLength),
  };
}

// Each webhook URL parsed once: every delivery to it POSTs to the same origin and path.
const targetUrl = memoized(plainHttpUrl);

function parseTarget(raw: string, details: Details): URL {
  const url = targetUrl(raw);
  if (url === undefined) {
    throw new PophookError('WEBHOOK_INVALID_REQUEST', 'the webhook URL is not a plain http(s) URL', {
      details: { ...details, field: 'url' },
    });
  }
  return url;
}

/** The URL, unless it is not http(s) or carries user:password@ (undici would silently drop them). */
function plainHttpUrl(raw: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  const plain = (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
  return plain ? url : undefined;
}

function customHeaders(headers: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!RESERVED.has(name.toLowerCase())) kept[name] = value;
  }
  return kept;
}

function statusError(
  verdict: Exclude<StatusClass, 'success'>,
  answer: ExchangeAnswer,
  base: Details,
): PophookError {
  const { status, kept } = answer;
  const details: Details = {
    ...base,
    status,
    statusText: printable(answer.statusText).trim(),
    bodyExcerpt: printable(kept.toString('utf8').replace(/\uFFFD+$/, '')),
    bodyFirstLine: firstLine(kept),
  };
  if (verdict === 'redirect') {
    return new PophookError(
      'WEBHOOK_REDIRECT',
      `the webhook answered ${status}; redirects are not followed`,
      {
        details,
      },
    );
  }
  if (verdict === 'permanent') {
    return new PophookError('WEBHOOK_HTTP_4XX', `the webhook answered ${status}`, { details });
  }
  // RFC 9110 §10.2.3; Standard Webhooks asks to honour it on 429 and 503.
  if (status === 429 || status === 503) {
    const retryAfterMs = parseRetryAfter(answer.retryAfter, Date.now());
    if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  }
  return new PophookError('WEBHOOK_HTTP_RETRYABLE', `the webhook answered ${status}`, {
    details,
  });
}

function requestError(failure: unknown, outer: AbortSignal | undefined, base: Details): unknown {
  if (!(failure instanceof ExchangeFailed)) return failure;
  const error = failure.cause;
  const code = (error as { code?: unknown } | null)?.code;
  const errorCode = typeof code === 'string' ? code : undefined;
  const details = errorCode === undefined ? base : { ...base, errorCode };
  if (failure.timedOut || (errorCode !== undefined && TIMEOUT_CODES.has(errorCode))) {
    return new PophookError('WEBHOOK_TIMEOUT', 'the webhook did not answer in time', {
      details,
    });
  }
  if (outer?.aborted) return outer.reason;
  if (errorCode === 'UND_ERR_INVALID_ARG') {
    // No cause: undici's message could name what was wrong with a header, and headers may hold tokens.
    return new PophookError('WEBHOOK_INVALID_REQUEST', 'the webhook request is malformed (URL or header)', {
      details,
    });
  }
  return new PophookError('WEBHOOK_NETWORK', 'the webhook could not be reached', {
    cause: error,
    details,
  });
}

/**
 * Control characters out (C0, DEL and C1), so an excerpt cannot forge log lines or move a terminal's
 * cursor when `pophook dlq show` prints it. The excerpt was cut at a byte count: a character cut in half
 * decodes to U+FFFD at the end, which the caller drops.
 */
function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ');
}

/** The receiver's own summary, for a person (`pophook check`): its first non-empty line, control-free. */
function firstLine(bytes: Buffer): string {
  const text = bytes.toString('utf8').replace(/\uFFFD+$/, '');
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return printable(line).trim().slice(0, FIRST_LINE_CHARS);
}
