// How a POP3 session opens and what bounds it: the greeting (with a second look at a silent port that
// may expect TLS at once) and the session-wide deadline and AbortSignal. client.ts keeps the verbs.
import type { OkStatus, Pop3Connection } from './connection.ts';
import { Pop3Error } from './errors.ts';
import { speaksTls, type TransportParams } from './transport.ts';

/** A POP3 server greets at once; a port silent this long may be waiting for a TLS ClientHello. */
const SILENCE_BEFORE_TLS_LOOK_MS = 2_000;

/**
 * The greeting (RFC 1939 §4). Without implicit TLS, a port still silent after a short while gets a second
 * look: when it answers a TLS handshake, it is an implicit-TLS port (RFC 8314) that would only ever time
 * out, and the wait ends at once with the fix.
 */
export async function awaitGreeting(
  connection: Pop3Connection,
  params: TransportParams,
  timeoutMs: number,
): Promise<OkStatus> {
  const greeting = connection.greeting(timeoutMs);
  if (params.options.tls === 'implicit') return greeting;
  const look = new AbortController();
  const timer = setTimeout(
    async () => {
      if (!(await speaksTls({ ...params, signal: look.signal })) || look.signal.aborted) return;
      const message = `port ${params.port} expects TLS at once: use tls: implicit`;
      connection.close(new Pop3Error('POP3_PORT_EXPECTS_TLS', message));
    },
    Math.min(SILENCE_BEFORE_TLS_LOOK_MS, timeoutMs / 2),
  );
  try {
    return await greeting;
  } finally {
    clearTimeout(timer);
    look.abort();
  }
}

/** The session-wide deadline and AbortSignal; returns what stops watching them. */
export function guardSession(
  connection: Pop3Connection,
  sessionTimeoutMs: number,
  signal: AbortSignal | undefined,
): () => void {
  const timer = setTimeout(() => {
    connection.close(
      new Pop3Error('POP3_SESSION_TIMEOUT', `the session took longer than ${sessionTimeoutMs} ms`),
    );
  }, sessionTimeoutMs);
  timer.unref();
  const removeAbort = onAbort(signal, () =>
    connection.close(new Pop3Error('POP3_ABORTED', 'the POP3 session was aborted')),
  );
  return () => {
    clearTimeout(timer);
    removeAbort();
  };
}

function onAbort(signal: AbortSignal | undefined, action: () => void): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    action();
    return () => {};
  }
  signal.addEventListener('abort', action, { once: true });
  return () => signal.removeEventListener('abort', action);
}
