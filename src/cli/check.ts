// `pophook check`: everything a deployment needs, tried once, with a line per check: the config (every
// issue with its path), Redis (reachable, writable, eviction policy, AOF), each mailbox (TLS, login, STAT)
// and each webhook (a signed test event, answered 2xx). Secrets never reach the output.
import type { Config, WebhookConfig } from '../config/index.ts';
import { connectMailbox } from '../mailbox/poll.ts';
import { type MailboxTokens, oauthLoginStep, uncachedTokens } from '../oauth/index.ts';
import { createRedis, waitReady } from '../queue/connections.ts';
import { findOrphanedQueues } from '../queue/orphans.ts';
import { readRedisPolicy } from '../runtime/redis-check.ts';
import { sendTestEvent, WebhookSender } from '../webhook/index.ts';
import { CONFIG_OPTION, parseCommandLine, UsageError } from './args.ts';
import { checkRoutes, DEFAULT_LAST } from './check-routes.ts';
import type { CliIo } from './io.ts';
import { loadConfigFor } from './shared.ts';

export interface CheckResult {
  check: string;
  ok: boolean;
  detail: string;
}

export async function runCheck(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandLine('check', argv, {
    ...CONFIG_OPTION,
    json: { type: 'boolean' },
    routes: { type: 'string' },
    last: { type: 'string' },
  });
  const last = values.last === undefined ? DEFAULT_LAST : Number(values.last);
  if (!Number.isInteger(last) || last < 1)
    throw new UsageError('--last takes a whole number of messages', 'check');
  if (values.last !== undefined && values.routes === undefined)
    throw new UsageError('--last belongs to --routes', 'check');
  const { config } = await loadConfigFor('check', values.config, io, 2);
  if (values.routes !== undefined)
    return checkRoutes(config, values.routes, { last, json: values.json ?? false }, io);
  const results: CheckResult[] = [{ check: 'config', ok: true, detail: 'valid' }];
  results.push(...(await checkRedis(config)));
  const tokens = uncachedTokens(config.credentials ?? {});
  for (const mailbox of Object.values(config.mailboxes)) results.push(await checkMailbox(mailbox, tokens));
  results.push(...(await checkWebhooks(Object.values(config.webhooks))));
  return writeResults(results, values.json ?? false, io);
}

/** One line per check (or JSON); exit code 0 when every check passed, 1 otherwise. */
export function writeResults(results: readonly CheckResult[], json: boolean, io: CliIo): number {
  if (json) io.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else for (const r of results) io.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.check}: ${r.detail}\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}

/** A signed test event to each webhook (not a delivery: a receiver tells it apart by its type). */
export async function checkWebhooks(webhooks: readonly WebhookConfig[]): Promise<CheckResult[]> {
  const sender = new WebhookSender();
  try {
    const results: CheckResult[] = [];
    for (const webhook of webhooks) {
      const sent = await sendTestEvent(sender, webhook, { timeoutMs: Math.min(webhook.timeoutMs, 10_000) });
      results.push({ check: `webhook ${webhook.id}`, ok: sent.ok, detail: sent.detail });
    }
    return results;
  } finally {
    await sender.close();
  }
}

async function checkRedis(config: Config): Promise<CheckResult[]> {
  const redis = createRedis(config.redis, 'producer', { noReconnect: true });
  redis.on('error', () => {});
  try {
    await waitReady(redis, 5_000);
    const key = `${config.redis.prefix}:check:${process.pid}`;
    await redis.set(key, '1', 'PX', 10_000);
    await redis.del(key);
    const policy = await readRedisPolicy(redis);
    const orphans = await findOrphanedQueues(redis, config.redis.prefix, config.delivery.shards);
    return [
      {
        check: 'redis',
        ok: true,
        detail: `reachable and writable${config.redis.cluster ? ' (cluster)' : ''}`,
      },
      {
        check: 'redis maxmemory-policy',
        ok: policy.maxmemoryPolicy === 'noeviction',
        detail: `${policy.maxmemoryPolicy ?? 'unknown (CONFIG not allowed)'} (must be noeviction)`,
      },
      {
        check: 'redis appendonly',
        ok: policy.appendonly === 'yes',
        detail: `${policy.appendonly ?? 'unknown'} (AOF keeps queued work across restarts)`,
      },
      {
        check: 'redis queues',
        ok: orphans.length === 0,
        detail:
          orphans.length === 0
            ? 'no jobs in queues this configuration no longer consumes'
            : `jobs left in ${orphans.map((o) => `${o.queue} (${o.jobs})`).join(', ')}: old key prefix or another delivery.shards; drain or delete them`,
      },
    ];
  } catch (error) {
    return [{ check: 'redis', ok: false, detail: (error as Error).message }];
  } finally {
    redis.disconnect();
  }
}

async function checkMailbox(
  mailbox: Config['mailboxes'][string],
  tokens: MailboxTokens,
): Promise<CheckResult> {
  const check = `mailbox ${mailbox.id}`;
  try {
    const signal = AbortSignal.timeout(mailbox.connectTimeoutMs * 2);
    const client = await connectMailbox(mailbox, signal, undefined, tokens);
    try {
      const stat = await client.stat();
      await client.quit();
      const tls = client.tlsInfo ? `${client.tlsInfo.protocol}` : 'no TLS';
      const via = mailbox.credential === undefined ? '' : `token of credential ${mailbox.credential}, `;
      return { check, ok: true, detail: `${via}${tls}, ${stat.count} message(s), ${stat.size} bytes` };
    } finally {
      client.close();
    }
  } catch (error) {
    const { code, serverText } = error as { code?: string; serverText?: string };
    const reply = serverText ? ` (server said: ${serverText})` : '';
    // A mailbox with a credential says which step of the OAuth login failed.
    const step = mailbox.credential === undefined ? undefined : oauthLoginStep(error);
    const where = step === undefined ? '' : `credential ${mailbox.credential}, ${step} failed: `;
    return { check, ok: false, detail: `${where}${code ?? 'ERROR'}: ${(error as Error).message}${reply}` };
  }
}
