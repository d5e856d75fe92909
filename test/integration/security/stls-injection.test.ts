// STARTTLS command injection (the CVE-2011-0411 class): plaintext sent right behind +OK to STLS must
// never be read as if it came over TLS. The client must end the session before the handshake.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Pop3Client } from '../../../src/pop3/index.ts';
import { startFakePop3Server } from '../../helpers/fake-pop3-server.ts';
import { createTestCertificates, type TestCertificates } from '../../helpers/test-certs.ts';

let certs: TestCertificates;
beforeAll(async () => {
  certs = await createTestCertificates();
});
afterAll(() => certs.cleanup());

it('bytes after +OK to STLS end the session with POP3_STLS_INJECTION, nothing secret sent', async () => {
  const server = await startFakePop3Server({
    tls: { certPem: certs.certPem, keyPem: certs.keyPem },
    stlsInjection: '+OK [injected] capabilities follow\r\nSASL PLAIN\r\n.\r\n',
  });
  try {
    const error = await Pop3Client.connect({
      host: server.host,
      port: server.port,
      tls: 'starttls',
      ca: certs.caPem,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'POP3_STLS_INJECTION' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.transcript.filter((line) => line.startsWith('C'))).toEqual(['C[1]: CAPA', 'C[1]: STLS']);
  } finally {
    await server.stop();
  }
});

it('without injection the same server upgrades, asks CAPA again and logs in', async () => {
  const server = await startFakePop3Server({ tls: { certPem: certs.certPem, keyPem: certs.keyPem } });
  try {
    const client = await Pop3Client.connect({
      host: server.host,
      port: server.port,
      tls: 'starttls',
      ca: certs.caPem,
    });
    expect(client.tlsInfo).toMatchObject({ authorized: true });
    expect(client.capabilities.stls).toBe(false); // the post-TLS CAPA, not the first one
    await client.login({ username: 'alice', password: 'secret' });
    await client.quit();
    expect(server.transcript.filter((line) => line.startsWith('C'))).toEqual([
      'C[1]: CAPA',
      'C[1]: STLS',
      'C[1]: CAPA',
      expect.stringMatching(/^C\[1\]: AUTH SCRAM-SHA-256 /),
      expect.stringMatching(/^C\[1\]: /),
      expect.stringMatching(/^C\[1\]: /),
      'C[1]: CAPA',
      'C[1]: QUIT',
    ]);
  } finally {
    await server.stop();
  }
});
