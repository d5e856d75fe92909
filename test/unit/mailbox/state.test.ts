// A mailbox's state, decided once for status, the dashboard, /readyz and the metrics: from its meta hash
// and its OAuth credential's status; and what a server's EXPIRE means for a keep-mode mailbox.
import { describe, expect, it } from 'vitest';
import { describeExpire, expireNotice, mailboxState } from '../../../src/mailbox/state.ts';
import type { CredentialStatus } from '../../../src/oauth/index.ts';
import { expireDays } from '../../../src/pop3/index.ts';

const NOW = 1_700_000_000_000;
const MIN = 60_000;

function credential(state: CredentialStatus['state'], retryable: boolean): CredentialStatus {
  return {
    credential: 'gmail',
    state,
    failures: {
      app: {
        code: retryable ? 'OAUTH_ENDPOINT_UNAVAILABLE' : 'OAUTH_INVALID_GRANT',
        message: 'credential gmail: token request failed',
        providerText: 'Token has been expired or revoked.',
        retryable,
        at: NOW - MIN,
        until: NOW + MIN,
      },
    },
  };
}

describe('mailboxState', () => {
  it('new before the first poll; ok after one, with a LOGIN-DELAY wait only while it lies ahead', () => {
    expect(mailboxState({}, undefined, NOW)).toEqual({ state: 'new' });
    expect(mailboxState({ lastOutcome: 'ok', lastOkAt: NOW, notBefore: NOW + MIN }, undefined, NOW)).toEqual({
      state: 'ok',
      nextLoginAt: NOW + MIN,
    });
    expect(mailboxState({ lastOutcome: 'ok', lastOkAt: NOW, notBefore: 0 }, undefined, NOW)).toEqual({
      state: 'ok',
    });
  });

  it('each refused login is its own state, with its code, text, streak and next login', () => {
    for (const outcome of ['credentials', 'temporary', 'in-use', 'login-delay', 'blocked']) {
      const meta = {
        lastOutcome: outcome,
        lastError: 'CODE',
        lastErrorText: 'the server said so',
        lastErrorAt: NOW - 1_000,
        failures: 2,
        notBefore: NOW + 2 * MIN,
      };
      expect(mailboxState(meta, undefined, NOW)).toEqual({
        state: outcome,
        code: 'CODE',
        text: 'the server said so',
        failures: 2,
        nextLoginAt: NOW + 2 * MIN,
      });
    }
    expect(
      mailboxState(
        { lastOutcome: 'error', lastError: 'POP3_CONNECT_FAILED', lastErrorAt: NOW },
        undefined,
        NOW,
      ),
    ).toEqual({ state: 'error', code: 'POP3_CONNECT_FAILED' });
  });

  it('an ok poll after a failure makes it past: ok, and the failure only as history (no stale lastError)', () => {
    const meta = {
      lastOutcome: 'ok',
      lastOkAt: NOW - MIN,
      lastError: 'POP3_AUTH_FAILED',
      lastErrorText: 'Authentication failed.',
      lastErrorAt: NOW - 5 * MIN,
      failures: 4,
      notBefore: 0,
    };
    expect(mailboxState(meta, undefined, NOW)).toEqual({
      state: 'ok',
      past: { code: 'POP3_AUTH_FAILED', at: NOW - 5 * MIN, failures: 4 },
    });
  });

  it('a credential refused for good makes the mailbox credentials, with the provider text, whatever its poll said', () => {
    const meta = { lastOutcome: 'ok', lastOkAt: NOW - MIN };
    expect(mailboxState(meta, credential('credentials', false), NOW)).toEqual({
      state: 'credentials',
      code: 'OAUTH_INVALID_GRANT',
      text: 'Token has been expired or revoked.',
      nextLoginAt: NOW + MIN,
    });
    const failing = { lastOutcome: 'error', lastError: 'OAUTH_INVALID_GRANT', lastErrorAt: NOW, failures: 3 };
    expect(mailboxState(failing, credential('credentials', false), NOW)).toMatchObject({ failures: 3 });
  });

  it('a token endpoint that is down is no credentials problem: the poll error shows', () => {
    const meta = { lastOutcome: 'error', lastError: 'OAUTH_ENDPOINT_UNAVAILABLE', lastErrorAt: NOW };
    expect(mailboxState(meta, credential('unavailable', true), NOW)).toEqual({
      state: 'error',
      code: 'OAUTH_ENDPOINT_UNAVAILABLE',
    });
    expect(mailboxState({ lastOutcome: 'ok' }, { state: 'ok', failures: {} }, NOW)).toEqual({
      state: 'ok',
    });
  });
});

describe('EXPIRE (RFC 2449 §6.7)', () => {
  it('reads days, NEVER and the USER suffix; ignores what it does not understand', () => {
    expect(
      ['NEVER', 'never', '0', '30', '30 USER', 'NEVER USER', undefined, '', 'soon', '-1'].map(expireDays),
    ).toEqual(['never', 'never', 0, 30, 30, 'never', undefined, undefined, undefined, undefined]);
  });

  it('is worth a notice only in keep mode, and only when the server expires messages', () => {
    expect(expireNotice('30', false)).toBe('30');
    expect(expireNotice('0', false)).toBe('0');
    expect(expireNotice('30', true)).toBeUndefined();
    expect(expireNotice('NEVER', false)).toBeUndefined();
    expect(expireNotice(undefined, false)).toBeUndefined();
    expect(describeExpire('0')).toMatch(/at the end of each session \(EXPIRE 0\)/);
    expect(describeExpire('30')).toMatch(/after 30 days \(EXPIRE 30\)/);
  });
});
