// The HTTP side of token requests, src/oauth's one user of undici (through src/undici.ts): an agent per
// credential that trusts the system roots plus the credential's extra CA, requests with a time budget and a
// bounded body (always consumed), and a WHATWG fetch over the same agent for libraries that take one (gaxios).
import { rootCertificates } from 'node:tls';
import { createAgent, fetchOn, request } from '../undici.ts';

/** A token response is a small JSON object; anything bigger is not one. */
const MAX_BODY_BYTES = 256 * 1024;

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly signal?: AbortSignal | undefined;
}

export interface TokenHttp {
  send(url: string, init: HttpRequest): Promise<HttpAnswer>;
  readonly fetch: typeof fetch;
  close(): Promise<void>;
}

export function createTokenHttp(options: { caPem?: string; timeoutMs: number }): TokenHttp {
  const agent = createAgent({
    connect: options.caPem === undefined ? {} : { ca: [...rootCertificates, options.caPem] },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const budget = (signal: AbortSignal | null | undefined) => {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    return signal ? AbortSignal.any([signal, timeout]) : timeout;
  };
  let closed: Promise<void> | undefined;
  return {
    async send(url, init) {
      const response = await request(agent, new URL(url), {
        method: init.method,
        ...(init.headers ? { headers: init.headers } : {}),
        ...(init.body === undefined ? {} : { body: init.body }),
        signal: budget(init.signal),
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) {
          response.body.destroy();
          break;
        }
        chunks.push(chunk as Buffer);
      }
      const headers = Object.fromEntries(
        Object.entries(response.headers).map(([name, value]) => [name, String(value)]),
      );
      return { status: response.statusCode, headers, body: Buffer.concat(chunks).toString('utf8') };
    },
    fetch: ((input: string | URL, init?: RequestInit) =>
      fetchOn(agent, input, init, budget(init?.signal))) as typeof fetch,
    close() {
      closed ??= agent.close();
      return closed;
    },
  };
}
