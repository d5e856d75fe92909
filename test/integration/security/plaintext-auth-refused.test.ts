// Credentials never travel in clear unless the mailbox says tls: none AND allowPlaintextAuth: true.
// The refusal comes before anything secret is written, for every method (even the challenge-based ones).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUTH_METHODS, Pop3Client } from '../../../src/pop3/index.ts';
import { type FakePop3Server, startFakePop3Server } from '../../helpers/fake-pop3-server.ts';

let server: FakePop3Server;
beforeEach(async () => {
  server = await startFakePop3Server({ tokens: { alice: 'tok-123' } });
});
afterEach(() => server.stop());

describe('plaintext authentication', () => {
  for (const auth of AUTH_METHODS) {
    it(`auth ${auth} over plain TCP without the opt-in: POP3_PLAINTEXT_REFUSED, nothing sent`, async () => {
      const client = await Pop3Client.connect({ host: server.host, port: server.port, tls: 'none' });
      try {
        const error = await client
          .login({ username: 'alice', password: 'secret', accessToken: 'tok-123', auth })
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'POP3_PLAINTEXT_REFUSED', retryable: false });
        expect(server.transcript.filter((line) => line.startsWith('C'))).toEqual(['C[1]: CAPA']);
      } finally {
        client.close();
      }
    });
  }

  it('allowPlaintextAuth is ignored unless tls is none (no silent downgrade from starttls)', async () => {
    // tls: 'starttls' against a server without STLS fails at connect: the opt-in cannot reach login.
    const error = await Pop3Client.connect({ host: server.host, port: server.port, tls: 'starttls' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'POP3_STLS_UNAVAILABLE' });
  });

  it('with tls none and the explicit opt-in, the login goes through', async () => {
    const client = await Pop3Client.connect({ host: server.host, port: server.port, tls: 'none' });
    await client.login({ username: 'alice', password: 'secret', auth: 'user', allowPlaintextAuth: true });
    expect(client.state).toBe('transaction');
    await client.quit();
  });
});
