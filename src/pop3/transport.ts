// The only module that touches node:net and node:tls: opens the TCP or implicit-TLS connection
// (RFC 8314), upgrades an existing socket after STLS (RFC 2595), describes the TLS session, and takes a
// second look at a port that answered in the other mode (plain POP3 where TLS was expected, or the
// reverse). Each step has a deadline and honours an AbortSignal; certificate checks stay on unless the
// caller opts out.
import { isIP, type Socket, connect as tcpConnect } from 'node:net';
import { type TLSSocket, type ConnectionOptions as TlsConnectOptions, connect as tlsConnect } from 'node:tls';
import { isPop3Error, Pop3Error } from './errors.ts';
import type { Pop3ClientOptions, TlsInfo } from './types.ts';

export interface TransportParams {
  host: string;
  port: number;
  options: Pop3ClientOptions;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

function tlsOptions(host: string, options: Pop3ClientOptions): TlsConnectOptions {
  const servername = options.servername ?? (isIP(host) ? undefined : host);
  return {
    host,
    // SNI must not carry an IP address (RFC 6066 §3); identity is then checked against the IP SANs.
    ...(servername ? { servername } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
    minVersion: options.minVersion ?? 'TLSv1.2',
    // Node still verifies (chain and host name) and records the verdict in `authorized`; settleSocket
    // refuses an unverified peer before anything is written, with the certificate in the message.
    rejectUnauthorized: false,
  };
}

/**
 * Waits for `ready` on a socket being set up, or fails with a coded error on error, deadline or abort.
 * On failure the socket is destroyed.
 */
function settleSocket<T extends Socket>(
  socket: T,
  ready: 'connect' | 'secureConnect',
  params: TransportParams,
  errorCode: 'POP3_CONNECT_FAILED' | 'POP3_TLS_FAILED',
): Promise<T> {
  const verify = ready === 'secureConnect' && params.options.rejectUnauthorized !== false;
  return new Promise<T>((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      socket.removeListener(ready, onReady);
      socket.removeListener('error', onError);
      params.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: Pop3Error) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onReady = () => {
      const untrusted = verify ? untrustedError(socket as unknown as TLSSocket, params) : undefined;
      if (untrusted) return fail(untrusted);
      cleanup();
      socket.setNoDelay(true); // commands are small and latency-bound
      resolve(socket);
    };
    const onError = (error: NodeJS.ErrnoException) => {
      const code = isTlsError(error) ? 'POP3_TLS_FAILED' : errorCode;
      fail(new Pop3Error(code, `${describe(params)}: ${error.message}`, { cause: error }));
    };
    const onAbort = () => fail(new Pop3Error('POP3_ABORTED', `connecting to ${describe(params)} aborted`));
    const timer = setTimeout(
      () =>
        fail(
          new Pop3Error(
            'POP3_CONNECT_TIMEOUT',
            `${describe(params)}: no connection in ${params.timeoutMs} ms`,
          ),
        ),
      params.timeoutMs,
    );
    socket.once(ready, onReady);
    socket.once('error', onError);
    if (params.signal?.aborted) onAbort();
    else params.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function isTlsError(error: NodeJS.ErrnoException): boolean {
  const code = error.code ?? '';
  return (
    code.startsWith('ERR_TLS') ||
    code.startsWith('ERR_SSL') ||
    /CERT|SELF_SIGNED|UNABLE_TO|TLS|SSL/.test(code)
  );
}

function describe(params: TransportParams): string {
  return `${params.host}:${params.port}`;
}

/** TCP, or TLS from the first byte when `tls: 'implicit'`. The deadline covers TCP and TLS together. */
export async function openSocket(params: TransportParams): Promise<Socket> {
  if (params.options.tls !== 'implicit') {
    const socket = tcpConnect({ host: params.host, port: params.port });
    return settleSocket(socket, 'connect', params, 'POP3_CONNECT_FAILED');
  }
  const socket = tlsConnect({ ...tlsOptions(params.host, params.options), port: params.port });
  try {
    return await settleSocket(socket, 'secureConnect', params, 'POP3_CONNECT_FAILED');
  } catch (error) {
    // OpenSSL read "+OK …" as a TLS record header: it says "wrong version number", which names no fix.
    if (
      isPop3Error(error, 'POP3_TLS_FAILED') &&
      NOT_TLS.test(causeText(error)) &&
      (await speaksPop3(params))
    ) {
      throw new Pop3Error(
        'POP3_PORT_SPEAKS_PLAIN',
        `port ${params.port} speaks plain POP3: use tls: starttls (or the server's implicit-TLS port, usually 995)`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Wraps a connected socket in TLS after +OK to STLS. */
export function upgradeSocket(socket: Socket, params: TransportParams): Promise<TLSSocket> {
  const secure = tlsConnect({ ...tlsOptions(params.host, params.options), socket });
  return settleSocket(secure, 'secureConnect', params, 'POP3_TLS_FAILED');
}

export function describeTls(socket: Socket): TlsInfo | null {
  const secure = socket as Partial<TLSSocket>;
  if (typeof secure.getPeerCertificate !== 'function' || !secure.encrypted) return null;
  const cert = secure.getPeerCertificate();
  const subject = cert?.subject?.CN;
  const issuer = cert?.issuer?.CN;
  return {
    protocol: secure.getProtocol?.() ?? 'unknown',
    cipher: secure.getCipher?.()?.name ?? 'unknown',
    authorized: secure.authorized ?? false,
    ...(subject ? { subject: String(subject) } : {}),
    ...(issuer ? { issuer: String(issuer) } : {}),
    ...(cert?.valid_to ? { validTo: cert.valid_to } : {}),
    ...(cert?.fingerprint256 ? { fingerprint256: cert.fingerprint256 } : {}),
  };
}

/** What OpenSSL says when the first bytes back are not a TLS record. */
const NOT_TLS =
  /wrong version number|packet length too long|unknown protocol|http request|record layer failure/i;
/** Long enough for a greeting on any network that answered the TLS attempt; short, since it is a hint. */
const SECOND_LOOK_MS = 3_000;

function causeText(error: Error): string {
  const cause = error.cause as NodeJS.ErrnoException | undefined;
  return `${cause?.code ?? ''} ${cause?.message ?? ''}`;
}

/** A second, plain connection: does the port greet with +OK or -ERR (RFC 1939 §4)? Never throws. */
function speaksPop3(params: TransportParams): Promise<boolean> {
  return secondLook(params, (settle) => {
    const socket = tcpConnect({ host: params.host, port: params.port });
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (/^(\+OK|-ERR)/.test(head)) settle(true);
      else if (head.length >= 4 || head.includes('\n')) settle(false);
    });
    return socket;
  });
}

/**
 * A second connection that starts a TLS handshake and sends nothing else: a ServerHello (or a TLS alert)
 * back means the port expects TLS at once. Certificates are not the question here. Never throws.
 */
export function speaksTls(params: TransportParams): Promise<boolean> {
  return secondLook(params, (settle) => {
    const socket = tlsConnect({ ...tlsOptions(params.host, params.options), port: params.port });
    socket.once('secureConnect', () => settle(true));
    socket.on('error', (error: NodeJS.ErrnoException) => settle(/ALERT/.test(error.code ?? '')));
    return socket;
  });
}

function secondLook(
  params: TransportParams,
  open: (settle: (answer: boolean) => void) => Socket,
): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let socket: Socket | undefined;
    const settle = (answer: boolean) => {
      clearTimeout(timer);
      params.signal?.removeEventListener('abort', onAbort);
      socket?.destroy();
      resolve(answer);
    };
    const onAbort = () => settle(false);
    const timer = setTimeout(onAbort, Math.min(params.timeoutMs, SECOND_LOOK_MS));
    if (params.signal?.aborted) return settle(false);
    params.signal?.addEventListener('abort', onAbort, { once: true });
    socket = open(settle);
    socket.on('error', () => settle(false));
    socket.on('close', () => settle(false));
  });
}

const CERT_PROBLEMS: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a CA not trusted here',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its issuer is not trusted here',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its issuer is not trusted here',
  CERT_HAS_EXPIRED: 'it has expired',
  CERT_NOT_YET_VALID: 'it is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'it is issued for another host name',
};

/** POP3_TLS_FAILED for a peer Node could not verify, naming the certificate and where to trust it. */
function untrustedError(socket: TLSSocket, params: TransportParams): Pop3Error | undefined {
  if (socket.authorized) return undefined;
  const reason = String(socket.authorizationError ?? 'unknown');
  const cert = describeTls(socket);
  const shown = [
    cert?.subject && `subject ${cert.subject}`,
    cert?.issuer && `issuer ${cert.issuer}`,
    cert?.validTo && `expires ${cert.validTo}`,
  ].filter(Boolean);
  const { host, port } = params;
  const fix =
    reason === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? 'connect by a name the certificate carries, or set servername:'
      : "if it is your server's own certificate or CA, trust it with ca: FILE in the mailbox (probe: --ca FILE)";
  return new Pop3Error(
    'POP3_TLS_FAILED',
    `${describe(params)}: certificate not trusted: ${CERT_PROBLEMS[reason] ?? reason} (${reason}); ` +
      `${shown.length > 0 ? shown.join(', ') : 'no certificate shown'}; ${fix}; ` +
      `pophook probe --host ${host} --port ${port} --tls ${params.options.tls} --insecure shows it`,
    // The verdict as Node would have thrown it (CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID…).
    { cause: Object.assign(new Error(reason), { code: reason }) },
  );
}
