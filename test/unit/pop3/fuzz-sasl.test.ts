// Property tests of the SASL side against a hostile server: every mechanism's session fed arbitrary
// challenges, and the whole AUTH exchange (continuation lines, base64 decoding, cancel, final status) run
// through Pop3Connection over an in-memory socket. The outcome is a login, or a coded Pop3Error; never
// another exception, never a secret on the wire after a broken challenge except the cancel line.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authenticate } from '../../../src/pop3/auth.ts';
import { isPop3Error, parseCapabilities } from '../../../src/pop3/index.ts';
import { createSaslSession, SASL_MECHANISMS } from '../../../src/pop3/sasl/index.ts';
import { greetedConnection, MemorySocket } from './memory-socket.ts';

const RUNS = { numRuns: 2_000 };
const NONCE = 'fyko+d2lbbFgONRv9qkxdawL';
const CREDENTIALS = {
  username: 'alice',
  password: 'pencil-secret',
  accessToken: 'tok-secret',
  host: 'h',
  port: 995,
};

function expectCoded(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    expect(isPop3Error(error), String(error)).toBe(true);
  }
}

const base64 = fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('base64'));
/** SCRAM server-first messages close enough to valid to reach the iteration and salt checks. */
const serverFirst = fc
  .tuple(
    fc.constantFrom(NONCE, '', 'other'),
    fc.string({ maxLength: 8 }),
    fc.oneof(base64, fc.string({ maxLength: 8 })),
    fc.oneof(
      fc.integer({ min: -5, max: 2_000 }).map(String),
      fc.constantFrom('', '0', '01', '9999999999', 'x'),
    ),
    fc.constantFrom('', ',e=x', ',m=1'),
  )
  .map(([prefix, extra, salt, iterations, tail]) => `r=${prefix}${extra},s=${salt},i=${iterations}${tail}`);
const challenge = fc.oneof(
  fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes)),
  serverFirst.map((text) => Buffer.from(text)),
  fc.oneof(base64, fc.string({ maxLength: 10 })).map((v) => Buffer.from(`v=${v}`)),
  fc.constantFrom(Buffer.alloc(0), Buffer.from('e=invalid-proof'), Buffer.from('{"status":"401"}')),
);

describe('SASL sessions fed arbitrary challenges', () => {
  it('respond() returns bytes or throws a coded Pop3Error; complete() likewise', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SASL_MECHANISMS),
        fc.boolean(),
        fc.array(challenge, { maxLength: 4 }),
        (mechanism, sendInitial, challenges) => {
          const session = createSaslSession(mechanism, CREDENTIALS, { nonce: NONCE });
          if (sendInitial) session.initialResponse();
          for (const next of challenges) {
            expectCoded(() => expect(Buffer.isBuffer(session.respond(next))).toBe(true));
          }
          expectCoded(() => session.complete());
        },
      ),
      RUNS,
    );
  });
});

const serverLine = fc.oneof(
  challenge.map((bytes) => `+ ${bytes.toString('base64')}\r\n`),
  fc.string({ maxLength: 30 }).map((text) => `+ ${text}\r\n`),
  fc.constantFrom(
    '+\r\n',
    '+ \r\n',
    '+ ===\r\n',
    '+ @@@@\r\n',
    '+OK\r\n',
    '-ERR [AUTH] no\r\n',
    '-ERR\r\n',
    'HTTP/1.1 400\r\n',
  ),
);

describe('AUTH exchanges with a hostile server', () => {
  it('end in a login or a coded Pop3Error, whatever the server sends', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SASL_MECHANISMS),
        fc.array(serverLine, { minLength: 1, maxLength: 5 }),
        async (mechanism, lines) => {
          const socket = new MemorySocket();
          const connection = greetedConnection(socket, 1);
          const login = authenticate(
            {
              connection,
              capabilities: parseCapabilities([`SASL ${mechanism}`]),
              greeting: 'ready',
              tlsMode: 'implicit',
              secure: true,
              host: 'h',
              port: 995,
            },
            { ...CREDENTIALS, auth: mechanism.toLowerCase() as never },
          ).then(
            () => 'ok',
            (error: unknown) => {
              expect(isPop3Error(error), String(error)).toBe(true);
              return 'error';
            },
          );
          for (const line of lines) socket.emit('data', Buffer.from(line, 'utf8'));
          socket.emit('close');
          await login;
          // Nothing but AUTH lines, base64 answers and "*" cancels ever goes out; the password never in clear.
          expect(socket.written.join('')).not.toContain(CREDENTIALS.password);
          expect(socket.written.join('')).not.toContain(CREDENTIALS.accessToken);
        },
      ),
      RUNS,
    );
  });
});
