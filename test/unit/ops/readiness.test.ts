// The /readyz decision: Redis, workers, the watchdog's problems, mailbox staleness with a start grace, and
// mailboxes refused until an operator acts.
import { describe, expect, it } from 'vitest';
import { decideReadiness, mailboxStaleness, type ReadinessInput } from '../../../src/ops/readiness.ts';

const MIN = 60_000;
const base: ReadinessInput = {
  now: 100 * MIN,
  startedAt: 0,
  staleIntervals: 3,
  redis: { ok: true },
  workers: [
    { name: 'poll', running: true },
    { name: 'deliver', running: true },
  ],
  watchdog: new Map(),
  mailboxes: [{ id: 'support', pollIntervalMs: MIN, lastOkAt: 99 * MIN, state: { state: 'ok' } }],
};

describe('decideReadiness', () => {
  it('is ready when every check passes, and lists each check', () => {
    const { ready, checks } = decideReadiness(base);
    expect(ready).toBe(true);
    expect(checks.map((c) => c.name)).toEqual(['redis', 'worker:poll', 'worker:deliver', 'mailbox:support']);
  });

  it('is unready when Redis is not writable', () => {
    const result = decideReadiness({ ...base, redis: { ok: false, detail: 'ECONNREFUSED' } });
    expect(result.ready).toBe(false);
    expect(result.checks[0]).toEqual({ name: 'redis', ok: false, detail: 'ECONNREFUSED' });
  });

  it('is unready when a worker stopped or the watchdog sees a stall', () => {
    expect(decideReadiness({ ...base, workers: [{ name: 'poll', running: false }] }).ready).toBe(false);
    const stalled = decideReadiness({
      ...base,
      watchdog: new Map([['workers', 'deliver: 4 job(s) waiting']]),
    });
    expect(stalled.ready).toBe(false);
    expect(stalled.checks.find((c) => c.name === 'watchdog:workers')?.ok).toBe(false);
  });

  it('is unready when a mailbox had no ok poll for three intervals', () => {
    const stale = decideReadiness({
      ...base,
      mailboxes: [{ id: 'support', pollIntervalMs: MIN, lastOkAt: 96 * MIN, state: { state: 'ok' } }],
    });
    expect(stale.ready).toBe(false);
    expect(stale.checks.find((c) => c.name === 'mailbox:support')?.ok).toBe(false);
  });

  it('skips mailboxes when this process neither polls nor schedules', () => {
    const { mailboxes: _, ...rest } = base;
    expect(decideReadiness(rest).checks.some((c) => c.name.startsWith('mailbox:'))).toBe(false);
  });
});

describe('mailboxStaleness', () => {
  const m = { id: 'support', pollIntervalMs: MIN, state: { state: 'ok' as const } };
  it('gives a fresh start N intervals of grace, then needs an ok poll', () => {
    expect(mailboxStaleness(m, 3 * MIN, 0, 3)).toBeUndefined();
    expect(mailboxStaleness(m, 3 * MIN + 1, 0, 3)).toMatch(/never/);
    expect(mailboxStaleness({ ...m, lastOkAt: 2 * MIN }, 4 * MIN, 0, 3)).toBeUndefined();
  });

  it('counts from a LOGIN-DELAY the server asked for', () => {
    expect(mailboxStaleness({ ...m, lastOkAt: 0, notBefore: 10 * MIN }, 12 * MIN, 0, 3)).toBeUndefined();
    const refused = { state: 'login-delay' as const, code: 'POP3_LOGIN_DELAY' };
    expect(
      mailboxStaleness({ ...m, lastOkAt: 0, notBefore: 10 * MIN, state: refused }, 12 * MIN, 0, 3),
    ).toBeUndefined();
  });

  it('does not count the backoff of a [SYS/TEMP] or [IN-USE] refusal: such a mailbox turns stale', () => {
    for (const state of ['temporary', 'in-use'] as const) {
      const refused = { ...m, lastOkAt: 0, notBefore: 11 * MIN, state: { state, code: 'X' } };
      expect(mailboxStaleness(refused, 10 * MIN, 0, 3)).toMatch(/no ok poll for over 3 intervals/);
    }
  });

  it('is unready at once while credentials or the server refuse until an operator acts, with their words', () => {
    const credentials = {
      ...m,
      lastOkAt: 99 * MIN,
      state: {
        state: 'credentials' as const,
        code: 'OAUTH_INVALID_CLIENT',
        text: 'AADSTS7000215: Invalid client secret provided.',
        nextLoginAt: 100 * MIN + 30_000,
      },
    };
    expect(mailboxStaleness(credentials, 100 * MIN, 0, 3)).toBe(
      'credentials OAUTH_INVALID_CLIENT, next login in 30 s: AADSTS7000215: Invalid client secret provided. (operator action needed)',
    );
    const blocked = { ...m, lastOkAt: 99 * MIN, state: { state: 'blocked' as const, code: 'POP3_SYS_PERM' } };
    expect(mailboxStaleness(blocked, 100 * MIN, 0, 3)).toBe('blocked POP3_SYS_PERM (operator action needed)');
    const decision = decideReadiness({
      ...base,
      mailboxes: [credentials, { ...m, id: 'other', lastOkAt: 99 * MIN }],
    });
    expect(decision.ready).toBe(false);
    expect(decision.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['mailbox:support']);
  });
});
