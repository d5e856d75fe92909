// STARTTLS stripping: a man in the middle removes STLS from CAPA hoping the client carries on in clear.
// With tls: 'starttls' the client must refuse, before any credential reaches the wire.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Pop3Client } from '../../../src/pop3/index.ts';
import { startFakePop3Server } from '../../helpers/fake-pop3-server.ts';
import { createTestCertificates, type TestCertificates } from '../../helpers/test-certs.ts';

let certs: TestCertificates;
beforeAll(async () => {
  certs = await createTestCertificates();
});
afterAll(() => certs.cleanup());

it('a server that hides STLS gives POP3_STLS_UNAVAILABLE and never sees USER or PASS', async () => {
  const server = await startFakePop3Server({
    tls: { certPem: certs.certPem, keyPem: certs.keyPem },
    hideStls: true,
  });
  try {
    const connecting = Pop3Client.connect({
      host: server.host,
      port: server.port,
      tls: 'starttls',
      ca: certs.caPem,
    });
    const error = await connecting.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'POP3_STLS_UNAVAILABLE', retryable: false });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const sent = server.transcript.filter((line) => line.startsWith('C'));
    expect(sent).toEqual(['C[1]: CAPA']);
    expect(sent.join('\n')).not.toMatch(/USER|PASS|AUTH|APOP/);
  } finally {
    await server.stop();
  }
});

it('a server without CAPA at all is treated the same way', async () => {
  const server = await startFakePop3Server({
    tls: { certPem: certs.certPem, keyPem: certs.keyPem },
    overrides: { CAPA: () => '-ERR unknown command\r\n' },
  });
  try {
    const error = await Pop3Client.connect({
      host: server.host,
      port: server.port,
      tls: 'starttls',
      ca: certs.caPem,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'POP3_STLS_UNAVAILABLE' });
  } finally {
    await server.stop();
  }
});
