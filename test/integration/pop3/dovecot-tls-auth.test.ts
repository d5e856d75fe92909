// Interop with a real Dovecot 2.3: implicit TLS (RFC 8314), STLS (RFC 2595) with CAPA asked again after
// the handshake, every password mechanism Dovecot offers (RFC 1939 USER/PASS and APOP, RFC 5034 SASL),
// the plaintext rule (tls: none), and the error codes for bad credentials and bad certificates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_METHODS, Pop3Client } from '../../../src/pop3/index.ts';
import type { AuthMethod, Pop3ClientOptions } from '../../../src/pop3/types.ts';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';

const USER = 'carol';
const PASSWORD = 'carol-Pässwörd-42';

let server: DovecotServer;

beforeAll(async () => {
  server = await startDovecot({ users: { [USER]: PASSWORD } });
  await server.addMessages(
    USER,
    smallCorpus(3, 1).map((m) => m.raw),
  );
});

afterAll(async () => {
  await server?.stop();
});

function implicitOptions(extra: Partial<Pop3ClientOptions> = {}): Pop3ClientOptions {
  return { host: server.host, port: server.pop3sPort, tls: 'implicit', ca: server.caPem, ...extra };
}

function starttlsOptions(extra: Partial<Pop3ClientOptions> = {}): Pop3ClientOptions {
  return { host: server.host, port: server.pop3Port, tls: 'starttls', ca: server.caPem, ...extra };
}

/** Runs `body` with a connected client and always closes it. */
async function withClient<T>(
  options: Pop3ClientOptions,
  body: (client: Pop3Client) => Promise<T>,
): Promise<T> {
  const client = await Pop3Client.connect(options);
  try {
    return await body(client);
  } finally {
    client.close();
  }
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('Dovecot: implicit TLS (pop3s)', () => {
  it('verifies the certificate against the test CA and reports the session', async () => {
    await withClient(implicitOptions(), async (client) => {
      expect(client.greeting).toContain('Dovecot');
      expect(client.tlsInfo?.authorized).toBe(true);
      expect(client.tlsInfo?.protocol).toMatch(/^TLSv1\.[23]$/);
      expect(client.tlsInfo?.subject).toContain('localhost');
      expect(client.capabilities.sasl).toEqual(expect.arrayContaining(['PLAIN', 'LOGIN', 'SCRAM-SHA-256']));
      expect(client.capabilities.pipelining).toBe(true);
      expect(client.state).toBe('authorization');
      await client.login({ username: USER, password: PASSWORD });
      expect(client.state).toBe('transaction');
      expect(await client.stat()).toMatchObject({ count: 3 });
      await client.quit();
    });
  });

  it('refuses a server whose certificate is not trusted (no CA given)', async () => {
    const options: Pop3ClientOptions = { host: server.host, port: server.pop3sPort, tls: 'implicit' };
    expect(await codeOf(Pop3Client.connect(options))).toBe('POP3_TLS_FAILED');
  });

  it('refuses a certificate issued for another name', async () => {
    expect(await codeOf(Pop3Client.connect(implicitOptions({ servername: 'wrong.example' })))).toBe(
      'POP3_TLS_FAILED',
    );
  });
});

describe('Dovecot: STLS on the plain port', () => {
  it('upgrades, asks CAPA again (STLS no longer listed) and logs in', async () => {
    await withClient(starttlsOptions(), async (client) => {
      expect(client.tlsInfo?.authorized).toBe(true);
      // Dovecot lists STLS only before TLS: its absence proves the capabilities were read after the handshake.
      expect(client.capabilities.stls).toBe(false);
      expect(client.capabilities.sasl).toContain('PLAIN');
      await client.login({ username: USER, password: PASSWORD });
      expect((await client.uidl()).length).toBe(3);
      await client.quit();
    });
  });
});

describe('Dovecot: authentication mechanisms', () => {
  // Every method but the token ones: the test Dovecot has no OAuth2 token check.
  const methods = AUTH_METHODS.filter((method) => method !== 'xoauth2' && method !== 'oauthbearer');

  it.each(methods)('logs in with auth: %s and the session works', async (auth) => {
    await withClient(implicitOptions(), async (client) => {
      await client.login({ username: USER, password: PASSWORD, auth });
      expect(client.state).toBe('transaction');
      expect((await client.list()).map((entry) => entry.msg)).toEqual([1, 2, 3]);
      await client.quit();
    });
  });

  it.each(['user', 'plain', 'cram-md5', 'scram-sha-256'] as AuthMethod[])(
    'a wrong password with auth: %s is POP3_AUTH_FAILED',
    async (auth) => {
      await withClient(implicitOptions(), async (client) => {
        expect(await codeOf(client.login({ username: USER, password: 'not-the-password', auth }))).toBe(
          'POP3_AUTH_FAILED',
        );
      });
    },
  );

  it('an unknown user is POP3_AUTH_FAILED', async () => {
    await withClient(implicitOptions(), async (client) => {
      expect(await codeOf(client.login({ username: 'nobody-here', password: PASSWORD }))).toBe(
        'POP3_AUTH_FAILED',
      );
    });
  });
});

describe('Dovecot: tls: none', () => {
  const plain = (): Pop3ClientOptions => ({ host: server.host, port: server.pop3Port, tls: 'none' });

  it('logs in over plain TCP only with allowPlaintextAuth', async () => {
    await withClient(plain(), async (client) => {
      expect(client.tlsInfo).toBeNull();
      await client.login({ username: USER, password: PASSWORD, allowPlaintextAuth: true });
      expect(await client.stat()).toMatchObject({ count: 3 });
      await client.quit();
    });
  });

  it.each(['auto', 'user', 'plain'] as AuthMethod[])(
    'without allowPlaintextAuth, auth: %s is POP3_PLAINTEXT_REFUSED',
    async (auth) => {
      await withClient(plain(), async (client) => {
        expect(await codeOf(client.login({ username: USER, password: PASSWORD, auth }))).toBe(
          'POP3_PLAINTEXT_REFUSED',
        );
      });
    },
  );
});

describe('Dovecot: UTF8 (RFC 6856)', () => {
  it('is used exactly when Dovecot offers it', async () => {
    await withClient(implicitOptions(), async (client) => {
      await client.login({ username: USER, password: PASSWORD });
      // Dovecot 2.3 does not implement RFC 6856: no UTF8 in CAPA, so the client must not switch it on.
      expect(client.utf8).toBe(client.capabilities.utf8);
      await client.quit();
    });
  });
});
