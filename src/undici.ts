// undici's Agent (webhooks dispatch on it with a handler of their own, src/webhook/exchange.ts) and its
// request() (token requests), the home of undici, without undici's index: the index loads all of undici
// (fetch, its web globals, cookies, mocks, proxy agents: 110 modules against these 25), and evaluating it
// was about a tenth of the service's start-up CPU; fetch loads on use.
// These are undici's own files of the version package-lock.json pins; should a release move them, the build
// fails (test/integration/cli/compiled.test.ts checks what loads).
import type { Agent, Dispatcher } from 'undici';
import requestOn from 'undici/lib/api/api-request.js';
import AgentClass from 'undici/lib/dispatcher/agent.js';

export type { Agent, Dispatcher };

export function createAgent(options: Agent.Options): Agent {
  return new AgentClass(options);
}

/**
 * `agent.request(options)` to `url` (its origin, path and query): the index adds `request` to every
 * dispatcher's prototype, this calls it directly.
 */
export function request(
  agent: Dispatcher,
  url: URL,
  options: Omit<Dispatcher.RequestOptions, 'origin' | 'path'>,
): Promise<Dispatcher.ResponseData> {
  return requestOn.call(agent, { ...options, origin: url.origin, path: `${url.pathname}${url.search}` });
}

/** undici's WHATWG fetch (for libraries that take one), loaded with undici's index on first use. */
export async function fetchOn(
  dispatcher: Dispatcher,
  input: string | URL,
  init: RequestInit | undefined,
  signal: AbortSignal,
): Promise<Response> {
  const { fetch } = await import('undici');
  return (await fetch(input, { ...(init as object), dispatcher, signal })) as unknown as Response;
}
