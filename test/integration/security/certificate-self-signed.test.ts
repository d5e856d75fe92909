// A self-signed certificate is refused by default, and accepted only when given explicitly as `ca`.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Pop3Client } from '../../../src/pop3/index.ts';
import { startFakePop3Server } from '../../helpers/fake-pop3-server.ts';
import { createTestCertificates, type TestCertificates } from '../../helpers/test-certs.ts';

let certs: TestCertificates;
beforeAll(async () => {
  certs = await createTestCertificates();
});
afterAll(() => certs.cleanup());

it('is refused with POP3_TLS_FAILED by default', async () => {
  const server = await startFakePop3Server({ tls: certs.selfSigned, implicitTls: true });
  try {
    const error = await Pop3Client.connect({ host: server.host, port: server.port, tls: 'implicit' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'POP3_TLS_FAILED' });
  } finally {
    await server.stop();
  }
});

it('is refused when another CA is given', async () => {
  const server = await startFakePop3Server({ tls: certs.selfSigned });
  try {
    const error = await Pop3Client.connect({
      host: server.host,
      port: server.port,
      tls: 'starttls',
      ca: certs.caPem,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'POP3_TLS_FAILED' });
  } finally {
    await server.stop();
  }
});

it('is accepted when given as ca', async () => {
  const server = await startFakePop3Server({ tls: certs.selfSigned, implicitTls: true });
  try {
    const client = await Pop3Client.connect({
      host: server.host,
      port: server.port,
      tls: 'implicit',
      ca: certs.selfSigned.certPem,
    });
    expect(client.tlsInfo?.authorized).toBe(true);
    await client.login({ username: 'alice', password: 'secret' });
    await client.quit();
  } finally {
    await server.stop();
  }
});
