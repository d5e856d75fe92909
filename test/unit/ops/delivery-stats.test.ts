// Per-webhook stats as read back (pure summary), status classes, and the bearer-token check.
import { describe, expect, it } from 'vitest';
import { RATE_WINDOW_MS, summarize } from '../../../src/ops/delivery-stats.ts';
import { bearerMatches } from '../../../src/ops/http-server.ts';
import { statusClass } from '../../../src/telemetry/observations.ts';

describe('summarize', () => {
  const now = 10 * RATE_WINDOW_MS;
  const attempt = (at: number, ok: boolean) => JSON.stringify({ at, ok, class: ok ? '2xx' : '5xx' });

  it('rates the attempts of the last window and keeps the last error', () => {
    const recent = [
      attempt(now - 1, true),
      attempt(now - 2, false),
      attempt(now - RATE_WINDOW_MS - 1, false),
      '{bad',
    ];
    const stats = {
      ok: '7',
      failed: '3',
      lastOkAt: String(now - 1),
      lastErrorAt: '5',
      lastErrorCode: 'WEBHOOK_TIMEOUT',
    };
    const status = summarize('tickets', stats, recent, now);
    expect(status.window).toEqual({ attempts: 2, ok: 1, rate: 0.5, windowMs: RATE_WINDOW_MS });
    expect(status.totalOk).toBe(7);
    // A delivery succeeded after it: the error is history.
    expect(status.lastError).toEqual({ at: 5, code: 'WEBHOOK_TIMEOUT', past: true });
    expect(summarize('tickets', { ...stats, lastOkAt: '4' }, recent, now).lastError?.past).toBe(false);
  });

  it('says "no rate" when nothing was tried', () => {
    expect(summarize('tickets', {}, [], now).window.rate).toBeNull();
  });
});

describe('statusClass', () => {
  const base = { mailbox: 'm', webhook: 'w', durationMs: 1 };
  it('classes by status, then by timeout or network code', () => {
    expect(statusClass({ ...base, outcome: 'delivered', status: 202 })).toBe('2xx');
    expect(statusClass({ ...base, outcome: 'retry', status: 429, code: 'WEBHOOK_HTTP_RETRYABLE' })).toBe(
      '4xx',
    );
    expect(statusClass({ ...base, outcome: 'retry', code: 'WEBHOOK_TIMEOUT' })).toBe('timeout');
    expect(statusClass({ ...base, outcome: 'retry', code: 'WEBHOOK_NETWORK' })).toBe('network');
    expect(statusClass({ ...base, outcome: 'retry', code: 'PAYLOAD_PARSE_TIMEOUT' })).toBe('error');
    expect(statusClass({ ...base, outcome: 'raw-missing' })).toBeUndefined();
  });
});

describe('bearerMatches', () => {
  const token = 'a-long-admin-token-123';
  it('accepts exactly the configured token', () => {
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`Bearer ${token}x`, token)).toBe(false);
    expect(bearerMatches(token, token)).toBe(false);
    expect(bearerMatches(undefined, token)).toBe(false);
    expect(bearerMatches('Bearer ', '')).toBe(false);
  });
});
