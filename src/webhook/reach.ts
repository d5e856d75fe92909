// Reachability of a webhook's host for `pophook check`: one unsigned HEAD request; any HTTP answer counts,
// since the point is DNS, TCP and TLS (a receiver may well answer 405 to HEAD). Nothing is delivered.
import { request } from 'undici';

export async function reachWebhook(url: string, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  const started = Date.now();
  try {
    const response = await request(url, { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs) });
    await response.body.dump();
    return { ok: true, detail: `HTTP ${response.statusCode} to HEAD in ${Date.now() - started} ms` };
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { ok: false, detail: `${code ?? 'unreachable'}: ${(error as Error).message}` };
  }
}
