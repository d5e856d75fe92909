// One HTTP exchange of the sender over undici's dispatch, with a handler of its own instead of undici's
// request(): no response body stream, promise chain or AbortSignal per POST (15-19 µs of the client's CPU per
// loopback POST against 42-66 µs with request() and an AbortController, docs/performance.md). The whole
// exchange, answer body included, is bounded by one deadline; the caller's signal aborts it too.
import type { Readable } from 'node:stream';
import type { Dispatcher } from '../undici.ts';

export interface ExchangeRequest {
  url: URL;
  headers: Record<string, string>;
  body: Buffer | Readable;
  /** Bounds the whole exchange; undici's own header and body timeouts are set to it as well. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** How much of the answer's body to keep (decided by its status); the rest is read and dropped. */
  keepBytes(status: number): number;
  /** Past this many body bytes the socket is dropped instead of read to its end for reuse. */
  drainLimitBytes: number;
}

export interface ExchangeAnswer {
  status: number;
  statusText: string;
  retryAfter: string | undefined;
  /** The first keepBytes(status) bytes of the body (a body cut short by an error or the deadline too). */
  kept: Buffer;
}

/** Rejects before an answer: with the deadline's `timedOut` set, the caller's `signal.reason`, or undici's error. */
export class ExchangeFailed extends Error {
  constructor(
    override readonly cause: unknown,
    readonly timedOut: boolean,
  ) {
    super('the webhook exchange failed');
  }
}

export function exchange(dispatcher: Dispatcher, request: ExchangeRequest): Promise<ExchangeAnswer> {
  return new Promise((resolve, reject) => {
    new Exchange(request, resolve, reject).start(dispatcher);
  });
}

const TIMED_OUT = new Error('webhook timeout');

class Exchange implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | undefined;
  /** Why to abort, when asked before undici handed over its controller. */
  #abortReason: Error | undefined;
  #timedOut = false;
  #timer: NodeJS.Timeout | undefined;
  #answer: (Omit<ExchangeAnswer, 'kept'> & { keep: number }) | undefined;
  #kept: Buffer[] = [];
  #keptBytes = 0;
  #readBytes = 0;
  #settled = false;
  readonly #onAbort = () => this.#abort(this.request.signal?.reason);

  constructor(
    private readonly request: ExchangeRequest,
    private readonly resolve: (answer: ExchangeAnswer) => void,
    private readonly reject: (error: ExchangeFailed) => void,
  ) {}

  start(dispatcher: Dispatcher): void {
    const { url, headers, body, timeoutMs, signal } = this.request;
    if (signal?.aborted) {
      this.reject(new ExchangeFailed(signal.reason, false));
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#abort(TIMED_OUT);
    }, timeoutMs);
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    try {
      dispatcher.dispatch(
        {
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          headers,
          body,
          // The timer above bounds the whole exchange: undici's own two would be a second timer made and
          // dropped per request on its connection (0 turns them off).
          headersTimeout: 0,
          bodyTimeout: 0,
        },
        this,
      );
    } catch (error) {
      this.onResponseError(undefined, error as Error);
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#abortReason !== undefined) controller.abort(this.#abortReason);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    if (statusCode < 200) return; // an informational answer: the final one follows
    const retryAfter = headers['retry-after'];
    this.#answer = {
      status: statusCode,
      statusText: statusMessage ?? '',
      retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      keep: this.request.keepBytes(statusCode),
    };
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const answer = this.#answer;
    if (answer === undefined) return;
    if (this.#keptBytes < answer.keep) {
      const part = chunk.subarray(0, answer.keep - this.#keptBytes);
      this.#kept.push(part);
      this.#keptBytes += part.length;
    }
    this.#readBytes += chunk.length;
    // Dropping the rest drops the socket too: undici does not reuse an aborted one.
    if (this.#readBytes > this.request.drainLimitBytes) this.#abort(new Error('answer body too long'));
  }

  onResponseEnd(): void {
    this.#settle();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    // A body that breaks off (reset, the deadline) is no failure: the status already decided the outcome.
    if (this.#answer !== undefined) this.#settle();
    else this.#settle(new ExchangeFailed(error === TIMED_OUT ? undefined : error, this.#timedOut));
  }

  #abort(reason: Error): void {
    if (this.#settled) return;
    if (this.#controller === undefined) this.#abortReason = reason;
    else this.#controller.abort(reason);
  }

  #settle(failure?: ExchangeFailed): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.request.signal?.removeEventListener('abort', this.#onAbort);
    const answer = this.#answer;
    if (failure !== undefined || answer === undefined) {
      this.reject(failure ?? new ExchangeFailed(undefined, this.#timedOut));
      return;
    }
    const { keep: _keep, ...rest } = answer;
    this.resolve({ ...rest, kept: Buffer.concat(this.#kept) });
  }
}
