// The Redis outage state: one line when it begins, a reminder every REMINDER_MS, one when it ends, and
// nothing for the reconnect attempts in between; which errors mean "Redis can't be reached".
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RedisClient } from '../../../src/queue/connections.ts';
import {
  isConnectionError,
  nextOutage,
  type OutageEvent,
  type OutageState,
  REMINDER_MS,
  RedisOutage,
} from '../../../src/runtime/redis-outage.ts';
import type { Logger } from '../../../src/telemetry/logger.ts';

const refused = (at: number): OutageEvent => ({ kind: 'error', message: 'connect ECONNREFUSED', at });

/** Feeds events in order; returns the notices' event names. */
function run(events: OutageEvent[], state: OutageState = { upSince: 0, failures: 0 }) {
  const notices: string[] = [];
  for (const event of events) {
    const next = nextOutage(state, event, REMINDER_MS);
    state = next.state;
    if (next.notice) notices.push(next.notice.event);
  }
  return { state, notices };
}

describe('nextOutage', () => {
  it('says so once when Redis goes away, then only counts the reconnect attempts', () => {
    const attempts = Array.from({ length: 200 }, (_, i) => refused(1_000 + i * 100));
    const { state, notices } = run(attempts);
    expect(notices).toEqual(['redis-down']);
    expect(state).toMatchObject({ downSince: 1_000, failures: 200 });
  });

  it('reminds every REMINDER_MS while down, not on every tick', () => {
    const ticks = Array.from({ length: 120 }, (_, i): OutageEvent => ({ kind: 'tick', at: (i + 1) * 1_000 }));
    const { notices } = run([refused(0), ...ticks]);
    expect(notices).toEqual([
      'redis-down',
      'redis-still-down',
      'redis-still-down',
      'redis-still-down',
      'redis-still-down',
    ]);
  });

  it('says once that Redis is back, with how long it was down; a fresh outage is announced again', () => {
    const back = nextOutage(
      run([refused(1_000), refused(2_000)]).state,
      { kind: 'ready', at: 61_000 },
      REMINDER_MS,
    );
    expect(back.notice).toEqual({ event: 'redis-back', downForMs: 60_000, failures: 2 });
    expect(back.state).toEqual({ upSince: 61_000, failures: 0 });
    expect(run([{ kind: 'ready', at: 70_000 }, refused(80_000)], back.state).notices).toEqual(['redis-down']);
  });

  it('ignores ready and ticks while up', () => {
    expect(
      run([
        { kind: 'ready', at: 5 },
        { kind: 'tick', at: 60_000 },
      ]).notices,
    ).toEqual([]);
  });
});

describe('isConnectionError', () => {
  it('knows refused, unreachable, reset, closed and given-up commands', () => {
    for (const message of [
      'connect ECONNREFUSED 127.0.0.1:6379',
      'connect ETIMEDOUT',
      'read ECONNRESET',
      'Connection is closed.',
      "Stream isn't writeable and enableOfflineQueue options is false",
      'Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.',
      'getaddrinfo ENOTFOUND redis',
    ]) {
      expect(isConnectionError(new Error(message)), message).toBe(true);
    }
    expect(isConnectionError({ message: 'x', code: 'EHOSTUNREACH' })).toBe(true);
  });

  it('leaves command errors to their callers', () => {
    expect(
      isConnectionError(new Error('WRONGTYPE Operation against a key holding the wrong kind of value')),
    ).toBe(false);
    expect(isConnectionError(new Error('NOSCRIPT No matching script'))).toBe(false);
  });
});

describe('RedisOutage', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function fakeClient() {
    const client = new EventEmitter() as EventEmitter & { status: string };
    client.status = 'ready';
    return client;
  }

  function logger() {
    const lines: Array<{ level: string; fields: Record<string, unknown> }> = [];
    const log = (level: string) => (fields: Record<string, unknown>) => lines.push({ level, fields });
    const l = {
      warn: log('warn'),
      info: log('info'),
      error: log('error'),
      debug: log('debug'),
    } as unknown as Logger;
    return { l, lines };
  }

  it('turns 20 errors a second for almost 2 minutes into 1 warning, 3 reminders and 1 line when back', async () => {
    const { l, lines } = logger();
    const outage = new RedisOutage({ url: 'redis://h:6379', logger: l, now: Date.now });
    const a = fakeClient();
    const b = fakeClient();
    outage.watch(a as unknown as RedisClient);
    outage.watch(b as unknown as RedisClient);
    a.status = 'reconnecting';
    b.status = 'reconnecting';
    const start = Date.now();
    for (let i = 0; i < 1_150; i++) {
      (i % 2 ? a : b).emit(
        'error',
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      );
      // A worker's own connection reports too (BullMQ's duplicate): counted, never logged.
      outage.report(new Error('Connection is closed.'));
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(outage.down).toBe(true);
    expect(outage.downSince(start + 1)).toBe(true);
    a.status = 'ready';
    a.emit('ready');
    expect(outage.down).toBe(true);
    b.status = 'ready';
    b.emit('ready');
    expect(outage.down).toBe(false);
    expect(outage.upSince).toBe(Date.now());
    expect(lines.map((x) => x.fields.event)).toEqual([
      'redis-down',
      'redis-still-down',
      'redis-still-down',
      'redis-still-down',
      'redis-back',
    ]);
    expect(lines.every((x) => x.fields.url === 'redis://h:6379')).toBe(true);
    expect(lines.at(-1)?.fields.failures).toBe(2_300);
    await vi.advanceTimersByTimeAsync(10 * REMINDER_MS);
    expect(lines).toHaveLength(5);
    outage.close();
  });

  it('leaves errors that are not about the connection to the caller, and is silent once closed', () => {
    const { l, lines } = logger();
    const outage = new RedisOutage({ url: 'redis://h', logger: l });
    expect(outage.report(new Error('ERR unknown command'))).toBe(false);
    outage.close();
    expect(outage.report(new Error('Connection is closed.'))).toBe(true);
    expect(lines).toEqual([]);
  });
});
