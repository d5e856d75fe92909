// What the ops integration tests share: a pophook.yml with an `http` section (the test helper writes the
// rest), HTTP calls to the ops listener, and polling until a condition holds.
import { readFile, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { writeTestConfig } from '../../helpers/pophook-process.ts';
import { waitUntil as waitFor } from '../../helpers/wait.ts';

export const TOKEN = 'ops-test-token-0123456789';

export async function writeOpsConfig(
  input: Parameters<typeof writeTestConfig>[0],
  http: Record<string, unknown>,
): Promise<string> {
  const path = await writeTestConfig(input);
  const config = parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  await writeFile(path, stringify({ ...config, http: { host: '127.0.0.1', ...http } }));
  return path;
}

// biome-ignore lint/suspicious/noExplicitAny: test assertions walk the JSON freely
type Json = any;

export async function get(
  port: number,
  path: string,
  token?: string,
): Promise<{ status: number; text: string; json: () => Json }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

/** Waits through a server still starting: a request that fails means "not yet". */
export function waitUntil(what: string, predicate: () => Promise<boolean> | boolean, timeoutMs: number) {
  return waitFor(what, predicate, timeoutMs, { retryErrors: true });
}
