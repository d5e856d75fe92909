// The login side of OAuth, without sockets: which token a mailbox logs in with, the single forced refresh
// after a refusal (never a loop), the failure classification and the renewal point.
import { describe, expect, it } from 'vitest';
import type { MailboxConfig } from '../../../src/config/index.ts';
import { providerText } from '../../../src/oauth/failure.ts';
import { type MailboxTokens, renewAt, tokenFailureCode, withMailboxToken } from '../../../src/oauth/index.ts';
import { Pop3Error } from '../../../src/pop3/index.ts';

const mailbox = (extra: Partial<MailboxConfig>) =>
  ({ id: 'inbox', username: 'inbox@example.com', ...extra }) as MailboxConfig;

/** Hands out tok-1, tok-2… and records each request. */
function countingTokens() {
  const requests: Array<{ credential: string; subject: string; rejected?: string }> = [];
  const tokens: MailboxTokens = {
    async token(credential, subject, request = {}) {
      requests.push({ credential, subject, ...(request.rejected ? { rejected: request.rejected } : {}) });
      return { accessToken: `tok-${requests.length}`, expiresAt: Date.now() + 60_000 };
    },
  };
  return { tokens, requests };
}

const refused = () => new Pop3Error('POP3_AUTH_FAILED', 'invalid credentials');

describe('withMailboxToken', () => {
  it('a mailbox without a credential logs in with its static token (or none)', async () => {
    const seen: Array<string | undefined> = [];
    await withMailboxToken(mailbox({ accessToken: 'static' }), undefined, async (t) => seen.push(t));
    await withMailboxToken(mailbox({ password: 'pw' }), undefined, async (t) => seen.push(t));
    expect(seen).toEqual(['static', undefined]);
  });

  it('a credential mailbox asks the cache for its user and logs in once when accepted', async () => {
    const { tokens, requests } = countingTokens();
    const used: string[] = [];
    await withMailboxToken(mailbox({ credential: 'm365' }), tokens, async (t) => used.push(t!));
    expect(requests).toEqual([{ credential: 'm365', subject: 'inbox@example.com' }]);
    expect(used).toEqual(['tok-1']);
  });

  it('a refused token: one forced refresh naming the refused token, one more login', async () => {
    const { tokens, requests } = countingTokens();
    const used: string[] = [];
    const result = await withMailboxToken(mailbox({ credential: 'm365' }), tokens, async (t) => {
      used.push(t!);
      if (used.length === 1) throw refused();
      return 'session';
    });
    expect(result).toBe('session');
    expect(used).toEqual(['tok-1', 'tok-2']);
    expect(requests[1]).toMatchObject({ rejected: 'tok-1' });
  });

  it('refused again: the error stands after exactly two logins (no loop)', async () => {
    const { tokens, requests } = countingTokens();
    let logins = 0;
    const outcome = withMailboxToken(mailbox({ credential: 'm365' }), tokens, async () => {
      logins += 1;
      throw refused();
    });
    await expect(outcome).rejects.toMatchObject({ code: 'POP3_AUTH_FAILED' });
    expect([logins, requests.length]).toEqual([2, 2]);
  });

  it('other failures (network, TLS) are not retried with a new token', async () => {
    const { tokens, requests } = countingTokens();
    const outcome = withMailboxToken(mailbox({ credential: 'm365' }), tokens, async () => {
      throw new Pop3Error('POP3_CONNECT_FAILED', 'refused');
    });
    await expect(outcome).rejects.toMatchObject({ code: 'POP3_CONNECT_FAILED' });
    expect(requests).toHaveLength(1);
  });

  it('a credential without a token cache is a coded configuration error', async () => {
    const outcome = withMailboxToken(mailbox({ credential: 'm365' }), undefined, async () => 1);
    await expect(outcome).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('token failures', () => {
  it('RFC 6749 §5.2 codes and HTTP status decide the code', () => {
    expect(tokenFailureCode({ status: 401, error: 'invalid_client' })).toBe('OAUTH_INVALID_CLIENT');
    expect(tokenFailureCode({ status: 400, error: 'unauthorized_client' })).toBe('OAUTH_INVALID_CLIENT');
    expect(tokenFailureCode({ status: 400, error: 'invalid_grant' })).toBe('OAUTH_INVALID_GRANT');
    expect(tokenFailureCode({ status: 400, error: 'invalid_scope' })).toBe('OAUTH_INVALID_SCOPE');
    expect(tokenFailureCode({ status: 400, error: 'invalid_request' })).toBe('OAUTH_TOKEN_REJECTED');
    for (const facts of [
      { status: 503 },
      { status: 429 },
      { transport: true },
      { status: 400, error: 'temporarily_unavailable' },
    ]) {
      expect(tokenFailureCode(facts)).toBe('OAUTH_ENDPOINT_UNAVAILABLE');
    }
  });

  it('secrets-not-logged: the provider text is one bounded line with every secret masked', () => {
    const text = providerText('bad secret s3cr3t-value\nfor client', ['s3cr3t-value']);
    expect(text).toBe('bad secret **** for client');
    expect(providerText('x'.repeat(1000))!.length).toBeLessThan(410);
  });
});

describe('renewAt', () => {
  it('renews refreshBefore ahead of expiry, at most a quarter of the life ahead', () => {
    const hour = { accessToken: 't', issuedAt: 0, expiresAt: 3_600_000 };
    expect(renewAt(hour, 300_000)).toBe(3_300_000);
    const short = { accessToken: 't', issuedAt: 0, expiresAt: 4_000 };
    expect(renewAt(short, 300_000)).toBe(3_000);
  });
});
