// No password, token or SASL payload ever shows up in a log line, an error, or the client's transcript:
// every mechanism, successful and failed logins alike. What counts as secret is read off the wire from
// the server's side, so a new encoding of a secret cannot slip through unnoticed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthMethod, Pop3Client, type Pop3Logger } from '../../../src/pop3/index.ts';
import { type FakePop3Server, startFakePop3Server } from '../../helpers/fake-pop3-server.ts';

const PASSWORD = 'Pa55-w0rd-very-secret';
const TOKEN = 'ya29.token-very-secret';

let server: FakePop3Server;
beforeAll(async () => {
  server = await startFakePop3Server({ users: { alice: PASSWORD }, tokens: { alice: TOKEN } });
});
afterAll(() => server.stop());

function capturingLogger(sink: string[]): Pop3Logger {
  const log = (level: string) => (obj: object, msg?: string) =>
    sink.push(`${level} ${JSON.stringify(obj)} ${msg ?? ''}`);
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return [error.message, error.stack, JSON.stringify(error), String(error.cause ?? '')].join('\n');
}

/** Everything the client sent in this session that could carry a secret (long words of AUTH/PASS/APOP lines). */
function secretsOnWire(sessionId: number): string[] {
  const prefix = `C[${sessionId}]: `;
  const lines = server.transcript
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length));
  const words = lines
    .filter((line) => !/^(CAPA|USER|QUIT|UTF8)\b/.test(line))
    .flatMap((line) => line.split(' ').slice(line.startsWith('AUTH ') ? 2 : 0));
  return words.filter((word) => word.length >= 12);
}

const CASES: Array<{ auth: AuthMethod; token?: boolean }> = [
  { auth: 'user' },
  { auth: 'apop' },
  { auth: 'plain' },
  { auth: 'login' },
  { auth: 'cram-md5' },
  { auth: 'scram-sha-1' },
  { auth: 'scram-sha-256' },
  { auth: 'xoauth2', token: true },
  { auth: 'oauthbearer', token: true },
];

describe('secrets never logged', () => {
  for (const { auth, token } of CASES) {
    for (const outcome of ['succeeds', 'fails'] as const) {
      it(`auth ${auth} ${outcome}`, async () => {
        const captured: string[] = [];
        const secret =
          outcome === 'succeeds' ? (token ? TOKEN : PASSWORD) : `${token ? TOKEN : PASSWORD}-wrong`;
        const client = await Pop3Client.connect({
          host: server.host,
          port: server.port,
          tls: 'none',
          logger: capturingLogger(captured),
        });
        const sessionId = server.sessions.length;
        try {
          const credentials = token ? { accessToken: secret } : { password: secret };
          const result = await client
            .login({ username: 'alice', auth, allowPlaintextAuth: true, ...credentials })
            .then(
              () => 'ok',
              (error: unknown) => error,
            );
          if (outcome === 'succeeds') expect(result).toBe('ok');
          else {
            expect(result).toMatchObject({ code: 'POP3_AUTH_FAILED' });
            captured.push(describeError(result));
          }
          captured.push(...client.transcript);
        } finally {
          client.close();
        }
        const haystack = captured.join('\n');
        const needles = [secret, Buffer.from(secret).toString('base64'), ...secretsOnWire(sessionId)];
        expect(needles.length).toBeGreaterThan(1);
        for (const needle of needles) expect(haystack).not.toContain(needle);
        expect(haystack).toContain('****'); // the masked lines are there: the test looks at the right place
      });
    }
  }
});
