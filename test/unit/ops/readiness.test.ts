// The /readyz decision: Redis, workers, the watchdog's problems and mailbox staleness with a start grace.
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
  mailboxes: [{ id: 'support', pollIntervalMs: MIN, lastOkAt: 99 * MIN }],
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
      mailboxes: [{ id: 'support', pollIntervalMs: MIN, lastOkAt: 96 * MIN }],
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
  const m = { id: 'support', pollIntervalMs: MIN };
  it('gives a fresh start N intervals of grace, then needs an ok poll', () => {
    expect(mailboxStaleness(m, 3 * MIN, 0, 3)).toBeUndefined();
    expect(mailboxStaleness(m, 3 * MIN + 1, 0, 3)).toMatch(/never/);
    expect(mailboxStaleness({ ...m, lastOkAt: 2 * MIN }, 4 * MIN, 0, 3)).toBeUndefined();
  });

  it('counts from a LOGIN-DELAY the server asked for', () => {
    expect(mailboxStaleness({ ...m, lastOkAt: 0, notBefore: 10 * MIN }, 12 * MIN, 0, 3)).toBeUndefined();
  });
});
