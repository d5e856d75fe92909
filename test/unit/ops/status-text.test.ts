// `pophook status` text: one screen, times relative to the snapshot, numbers right-aligned.
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../src/ops/snapshot.ts';
import { bytes, duration, formatStatus, relative } from '../../../src/ops/status-text.ts';

const AT = Date.UTC(2025, 0, 2, 3, 4, 5);

function mailbox(meta: Partial<Snapshot['mailboxes'][number]>): Snapshot['mailboxes'][number] {
  return {
    id: 'support',
    webhook: 'tickets',
    pollIntervalMs: 60_000,
    state: { state: 'ok' },
    ledger: { queued: 0, delivered: 0, dead: 0, skipped: 0 },
    ...meta,
  };
}

describe('status text', () => {
  it('formats durations and relative times', () => {
    expect(duration(12_400)).toBe('12 s');
    expect(duration(5 * 60_000)).toBe('5 min');
    expect(duration(3 * 3_600_000)).toBe('3 h');
    expect(duration(3 * 86_400_000)).toBe('3 d');
    expect(relative(AT - 3_000, AT)).toBe('3 s ago');
    expect(relative(AT + 4_000, AT)).toBe('in 4 s');
    expect(relative(undefined, AT)).toBe('—');
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1_572_864)).toBe('1.5 MiB');
  });

  it('renders mailboxes, webhooks and queues', () => {
    const snapshot: Snapshot = {
      at: AT,
      mailboxes: [
        {
          id: 'support',
          webhook: 'tickets',
          pollIntervalMs: 60_000,
          lastPollAt: AT - 12_000,
          lastOutcome: 'ok',
          state: { state: 'ok' },
          listed: 14,
          ledger: { queued: 3, delivered: 10, dead: 1, skipped: 0 },
          oldestQueuedAt: AT - 90_000,
          lock: { owner: 'host-a:4242', ttlMs: 50_000 },
          nextPollAt: AT + 48_000,
        },
        {
          id: 'invoices',
          webhook: 'tickets',
          pollIntervalMs: 60_000,
          lastPollAt: AT - 5_000,
          lastOutcome: 'error',
          lastError: 'POP3_AUTH_FAILED',
          state: { state: 'error', code: 'POP3_AUTH_FAILED' },
          ledger: { queued: 0, delivered: 0, dead: 0, skipped: 0 },
        },
      ],
      webhooks: [
        {
          id: 'tickets',
          window: { attempts: 20, ok: 19, rate: 0.95, windowMs: 3_600_000 },
          totalOk: 19,
          totalFailed: 1,
          lastOkAt: AT - 2_000,
          lastError: { at: AT - 600_000, code: 'WEBHOOK_HTTP_4XX', status: 400, past: true },
        },
      ],
      queues: {
        poll: { waiting: 0, active: 1, delayed: 2, failed: 0 },
        deliver: { waiting: 3, active: 2, delayed: 0, failed: 1 },
      },
      redis: { usedBytes: 2_097_152, maxBytes: 0 },
    };
    const text = formatStatus(snapshot);
    expect(text).toContain(
      'pophook status at 2025-01-02T03:04:05.000Z  redis memory: 2.0 MiB used (no maxmemory)',
    );
    expect(text).toMatch(/support\s+12 s ago\s+ok\s+14\s+3\s+90 s\s+1\s+0\s+host-a:4242\s+in 48 s/);
    expect(text).toMatch(/invoices\s+5 s ago\s+error POP3_AUTH_FAILED\s+—\s+0\s+—\s+0\s+0\s+—\s+—/);
    expect(text).toMatch(/tickets\s+95% of 20\s+2 s ago\s+past: WEBHOOK_HTTP_4XX 400, 10 min ago/);
    expect(text).toMatch(/deliver\s+3\s+2\s+0\s+1/);
    expect(text.split('\n').every((line) => line.length <= 120)).toBe(true);
  });

  it('old failures fade: after an ok poll the last error shows as past, with its streak and time', () => {
    const snapshot: Snapshot = {
      at: AT,
      mailboxes: [
        mailbox({
          lastPollAt: AT - 7_200_000,
          state: { state: 'error', code: 'POP3_CONNECT_FAILED', failures: 3 },
        }),
        mailbox({
          id: 'healed',
          lastPollAt: AT - 60_000,
          state: { state: 'ok', past: { code: 'POP3_AUTH_FAILED', at: AT - 7_200_000, failures: 3 } },
        }),
      ],
      webhooks: [
        {
          id: 'tickets',
          window: { attempts: 1, ok: 0, rate: 0, windowMs: 3_600_000 },
          totalOk: 0,
          totalFailed: 1,
          lastError: { at: AT - 5_000, code: 'WEBHOOK_HTTP_4XX', status: 400, past: false },
        },
      ],
      queues: {},
      redis: {},
    };
    const text = formatStatus(snapshot);
    expect(text).toMatch(/support\s+2 h ago\s+error POP3_CONNECT_FAILED ×3\s/);
    expect(text).toMatch(/healed\s+60 s ago\s+ok \(past: POP3_AUTH_FAILED ×3, 2 h ago\)\s/);
    expect(text).toMatch(/tickets\s+0% of 1\s+—\s+WEBHOOK_HTTP_4XX 400, 5 s ago/);
  });

  it('names each refusal, its streak and the next login; the server’s own words and EXPIRE below the table', () => {
    const snapshot: Snapshot = {
      at: AT,
      mailboxes: [
        mailbox({
          id: 'creds',
          state: { state: 'credentials', code: 'POP3_AUTH_FAILED', failures: 3, nextLoginAt: AT + 240_000 },
        }),
        mailbox({
          id: 'oauth',
          state: {
            state: 'credentials',
            code: 'OAUTH_INVALID_GRANT',
            text: 'Token has been expired or revoked.',
            nextLoginAt: AT + 30_000,
          },
        }),
        mailbox({
          id: 'busy',
          state: { state: 'temporary', code: 'POP3_SYS_TEMP', failures: 2, nextLoginAt: AT + 120_000 },
        }),
        mailbox({ id: 'locked', state: { state: 'in-use', code: 'POP3_IN_USE', nextLoginAt: AT + 60_000 } }),
        mailbox({ id: 'slow', state: { state: 'ok', nextLoginAt: AT + 300_000 } }),
        mailbox({
          id: 'gone',
          state: {
            state: 'blocked',
            code: 'POP3_SYS_PERM',
            text: 'Account disabled by the administrator',
            nextLoginAt: AT + 3_600_000,
          },
        }),
        mailbox({ id: 'kept', expire: '30' }),
        mailbox({ id: 'fresh', state: { state: 'new' } }),
        mailbox({ id: 'billing', duplicates: 4 }),
      ],
      webhooks: [],
      queues: {},
      redis: {},
    };
    const text = formatStatus(snapshot);
    expect(text).toMatch(/creds\s+—\s+credentials POP3_AUTH_FAILED ×3, next login in 4 min\s/);
    expect(text).toMatch(/oauth\s+—\s+credentials OAUTH_INVALID_GRANT, next login in 30 s\s/);
    expect(text).toMatch(/busy\s+—\s+temporary POP3_SYS_TEMP ×2, next login in 2 min\s/);
    expect(text).toMatch(/locked\s+—\s+in-use POP3_IN_USE, next login in 60 s\s/);
    expect(text).toMatch(/slow\s+—\s+ok, next login in 5 min\s/);
    expect(text).toMatch(/gone\s+—\s+blocked POP3_SYS_PERM, next login in 60 min\s/);
    expect(text).toMatch(/fresh\s+—\s+—\s/);
    expect(text).toContain('\n  oauth: OAUTH_INVALID_GRANT: Token has been expired or revoked.\n');
    expect(text).toContain('\n  gone: POP3_SYS_PERM: Account disabled by the administrator\n');
    expect(text).toContain(
      '\n  kept: the server removes retrieved messages after 30 days (EXPIRE 30), although delete: false\n',
    );
    expect(text).toContain('\n  billing: 4 duplicate(s) of emails accepted through another copy\n');
    expect(text).not.toContain('fresh: ');
  });
});
