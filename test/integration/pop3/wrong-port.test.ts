// TLS mode and port that do not match, against a real Dovecot: implicit TLS on the plain port ends with
// POP3_PORT_SPEAKS_PLAIN (not OpenSSL's "wrong version number"), STLS or plain on the implicit-TLS port ends
// within seconds with POP3_PORT_EXPECTS_TLS (not a greeting timeout). A server that is merely silent is not
// mistaken for a TLS port, and an untrusted certificate's error shows the certificate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pop3Client } from '../../../src/pop3/index.ts';
import type { Pop3ClientOptions } from '../../../src/pop3/types.ts';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { startFakePop3Server } from '../../helpers/fake-pop3-server.ts';

let dovecot: DovecotServer;

beforeAll(async () => {
  dovecot = await startDovecot();
});

afterAll(async () => {
  await dovecot?.stop();
});

async function failure(options: Pop3ClientOptions): Promise<{ code?: string; message: string; ms: number }> {
  const started = Date.now();
  const error = await Pop3Client.connect(options).then(
    (client) => {
      client.close();
      throw new Error('connected');
    },
    (caught: unknown) => caught as { code?: string; message: string },
  );
  return { code: error.code, message: error.message, ms: Date.now() - started };
}

describe('the wrong TLS mode for the port', () => {
  it('implicit TLS on the plain POP3 port: POP3_PORT_SPEAKS_PLAIN', async () => {
    const error = await failure({
      host: dovecot.host,
      port: dovecot.pop3Port,
      tls: 'implicit',
      ca: dovecot.caPem,
    });
    expect(error.code).toBe('POP3_PORT_SPEAKS_PLAIN');
  });

  it.each(['starttls', 'none'] as const)(
    'tls: %s on the implicit-TLS port: POP3_PORT_EXPECTS_TLS within seconds, not a 15 s greeting wait',
    async (tls) => {
      const error = await failure({ host: dovecot.host, port: dovecot.pop3sPort, tls, ca: dovecot.caPem });
      expect(error.code).toBe('POP3_PORT_EXPECTS_TLS');
      expect(error.ms).toBeLessThan(6_000);
    },
  );

  it('a plain server that stays silent is a greeting timeout, not a TLS port', async () => {
    const server = await startFakePop3Server({ silent: true });
    try {
      const error = await failure({
        host: server.host,
        port: server.port,
        tls: 'none',
        greetingTimeoutMs: 3_000,
      });
      expect(error.code).toBe('POP3_GREETING_TIMEOUT');
    } finally {
      await server.stop();
    }
  });
});

describe('an untrusted certificate', () => {
  it('POP3_TLS_FAILED whose message shows the certificate subject and names ca: and --ca', async () => {
    // Without the test CA, Dovecot's certificate is untrusted.
    const error = await failure({ host: dovecot.host, port: dovecot.pop3sPort, tls: 'implicit' });
    expect(error.code).toBe('POP3_TLS_FAILED');
    expect(error.message).toMatch(/subject \S+/);
    expect(error.message).toContain('ca: FILE');
    expect(error.message).toContain('--ca FILE');
  });
});
