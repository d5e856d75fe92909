// A certificate valid but issued for another host must be refused, for implicit TLS and for STLS.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Pop3Client } from '../../../src/pop3/index.ts';
import { startFakePop3Server } from '../../helpers/fake-pop3-server.ts';
import { createTestCertificates, type TestCertificates } from '../../helpers/test-certs.ts';

let certs: TestCertificates;
beforeAll(async () => {
  certs = await createTestCertificates();
});
afterAll(() => certs.cleanup());

for (const tls of ['implicit', 'starttls'] as const) {
  it(`${tls}: a certificate for wrong.example is refused with POP3_TLS_FAILED, nothing secret sent`, async () => {
    const server = await startFakePop3Server({ tls: certs.wrongHost, implicitTls: tls === 'implicit' });
    try {
      const error = await Pop3Client.connect({
        host: server.host,
        port: server.port,
        tls,
        ca: certs.caPem,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'POP3_TLS_FAILED' });
      expect(server.transcript.join('\n')).not.toMatch(/USER|PASS|AUTH/);
    } finally {
      await server.stop();
    }
  });
}

it('the same CA with the right host name is accepted (the test can fail)', async () => {
  const server = await startFakePop3Server({ tls: certs, implicitTls: true });
  try {
    const client = await Pop3Client.connect({
      host: server.host,
      port: server.port,
      tls: 'implicit',
      ca: certs.caPem,
    });
    expect(client.tlsInfo).toMatchObject({
      authorized: true,
      subject: 'localhost',
      issuer: 'pophook test CA',
    });
    client.close();
  } finally {
    await server.stop();
  }
});
