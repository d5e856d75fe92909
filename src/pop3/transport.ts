// The only module that touches node:net and node:tls: opens the TCP or implicit-TLS connection
// (RFC 8314), upgrades an existing socket after STLS (RFC 2595), and describes the TLS session. Each
// step has a deadline and honours an AbortSignal; certificate checks stay on unless the caller opts out.
import { isIP, type Socket, connect as tcpConnect } from 'node:net';
import { type TLSSocket, type ConnectionOptions as TlsConnectOptions, connect as tlsConnect } from 'node:tls';
import { Pop3Error } from './errors.ts';
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
    rejectUnauthorized: options.rejectUnauthorized ?? true,
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
export function openSocket(params: TransportParams): Promise<Socket> {
  if (params.options.tls === 'implicit') {
    const socket = tlsConnect({ ...tlsOptions(params.host, params.options), port: params.port });
    return settleSocket(socket, 'secureConnect', params, 'POP3_CONNECT_FAILED');
  }
  const socket = tcpConnect({ host: params.host, port: params.port });
  return settleSocket(socket, 'connect', params, 'POP3_CONNECT_FAILED');
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
