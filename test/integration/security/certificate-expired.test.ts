// An expired certificate from a trusted CA must be refused.
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
  it(`${tls}: an expired certificate is refused with POP3_TLS_FAILED`, async () => {
    const server = await startFakePop3Server({ tls: certs.expired, implicitTls: tls === 'implicit' });
    try {
      const error = await Pop3Client.connect({
        host: server.host,
        port: server.port,
        tls,
        ca: certs.caPem,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'POP3_TLS_FAILED' });
      expect((error as Error & { cause?: { code?: string } }).cause?.code).toBe('CERT_HAS_EXPIRED');
    } finally {
      await server.stop();
    }
  });
}
