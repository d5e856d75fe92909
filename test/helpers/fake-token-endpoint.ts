// A loopback OAuth 2.0 token endpoint over HTTPS (the test certificate) speaking the request shapes pophook
// sends: Microsoft identity platform v2.0 (`/<tenant>/oauth2/v2.0/token`, client_credentials with a client
// secret or a client_assertion JWT it verifies against the registered certificate), Google (`/google/token`:
// refresh_token, and the jwt-bearer grant of a service account, verified against its public key) and a
// plain RFC 6749 endpoint (`/generic/token`). Tokens live a few seconds; faults (5xx, invalid_grant) are
// injected per test; every request is counted; the fake POP3 server asks it whether a token is valid.

import { execFile } from 'node:child_process';
import {
  createHash,
  createVerify,
  constants as cryptoConstants,
  generateKeyPairSync,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface FakeClient {
  /** Which request shape the client uses. */
  kind: 'microsoft' | 'google' | 'google-service-account' | 'generic';
  clientId: string;
  clientSecret?: string;
  refreshToken?: string;
  /** microsoft: a certificate (PEM) whose key signs the client assertion. */
  certificatePem?: string;
  /** google-service-account: the key's public half (PEM) and the users it may act as. */
  publicKeyPem?: string;
  /** Users whose mailbox the client's tokens open (absent: any). Service accounts: the JWT subject. */
  mailboxes?: string[];
}

export type Fault = { status: number; error?: string; description?: string };

export interface TokenRequestRecord {
  clientId: string;
  grant: string;
  status: number;
  at: number;
}

export interface FakeTokenEndpoint {
  readonly url: string;
  /** `https://127.0.0.1:<port>` (Microsoft authority). */
  readonly authority: string;
  readonly googleTokenUrl: string;
  readonly genericTokenUrl: string;
  readonly requests: TokenRequestRecord[];
  /** Token requests answered with a token, by client id. */
  issuedCount(clientId: string): number;
  /** The next `count` requests of `clientId` (or any client) fail this way. */
  inject(fault: Fault, count?: number, clientId?: string): void;
  /** Revokes every token of the client and refuses it (invalid_client / invalid_grant) until restored. */
  revoke(clientId: string): void;
  /** Accepts the client again with a new secret (or refresh token). */
  restore(clientId: string, secret: { clientSecret?: string; refreshToken?: string }): void;
  /** Every access token handed out so far (to look for them in logs). */
  issuedTokens(): string[];
  /** Whether the fake POP3 server should accept `token` for `user`. */
  accepts(user: string, token: string): boolean;
  stop(): Promise<void>;
}

export interface FakeTokenEndpointOptions {
  tls: { certPem: string; keyPem: string };
  clients: FakeClient[];
  /** Token lifetime in seconds (default 3). */
  lifetimeSeconds?: number;
}

interface Issued {
  clientId: string;
  subject?: string;
  expiresAt: number;
}

const GOOGLE_AUDIENCE = 'https://oauth2.googleapis.com/token';

export async function startFakeTokenEndpoint(options: FakeTokenEndpointOptions): Promise<FakeTokenEndpoint> {
  const clients = new Map(options.clients.map((client) => [client.clientId, { ...client }]));
  const revoked = new Set<string>();
  const issued = new Map<string, Issued>();
  const everIssued: string[] = [];
  const requests: TokenRequestRecord[] = [];
  const faults: Array<Fault & { clientId?: string }> = [];
  let base = '';

  const issue = (clientId: string, subject?: string): Record<string, unknown> => {
    const lifetime = options.lifetimeSeconds ?? 3;
    const token = `fake-at-${randomBytes(12).toString('hex')}`;
    everIssued.push(token);
    issued.set(token, { clientId, ...(subject ? { subject } : {}), expiresAt: Date.now() + lifetime * 1000 });
    return { access_token: token, token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime };
  };

  const handle = (path: string, form: URLSearchParams, authorization: string | undefined) => {
    const grant = form.get('grant_type') ?? '';
    const identified = identify(path, form, authorization);
    const clientId = identified.clientId;
    const fault = faults.findIndex((f) => f.clientId === undefined || f.clientId === clientId);
    if (fault !== -1) {
      const [f] = faults.splice(fault, 1);
      return {
        clientId,
        grant,
        status: f!.status,
        body: { error: f!.error ?? 'server_error', error_description: f!.description ?? 'injected' },
      };
    }
    const client = clients.get(clientId);
    const refuse = (error: string, description: string) => ({
      clientId,
      grant,
      status: error === 'invalid_client' ? 401 : 400,
      body: { error, error_description: description },
    });
    if (!client || revoked.has(clientId)) {
      return refuse(
        client?.kind === 'google' ? 'invalid_grant' : 'invalid_client',
        'AADSTS7000222: the client or grant was revoked or is unknown',
      );
    }
    const problem = verify(client, path, grant, form, identified.secret, base);
    if (problem !== undefined) return refuse(problem.error, problem.description);
    return { clientId, grant, status: 200, body: issue(clientId, identified.subject) };
  };

  const server: Server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', base).pathname;
      if (req.method !== 'POST') {
        // Discovery (OpenID metadata, instance discovery) is not served: pophook must not need it.
        requests.push({ clientId: '', grant: `${req.method} ${path}`, status: 404, at: Date.now() });
        res.writeHead(404).end();
        return;
      }
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const answer = handle(path, form, req.headers.authorization);
      requests.push({
        clientId: answer.clientId,
        grant: answer.grant,
        status: answer.status,
        at: Date.now(),
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('fake token endpoint: no port');
  base = `https://127.0.0.1:${address.port}`;

  return {
    url: base,
    authority: base,
    googleTokenUrl: `${base}/google/token`,
    genericTokenUrl: `${base}/generic/token`,
    requests,
    issuedCount: (clientId) => requests.filter((r) => r.clientId === clientId && r.status === 200).length,
    inject(fault, count = 1, clientId) {
      for (let i = 0; i < count; i++) faults.push({ ...fault, ...(clientId ? { clientId } : {}) });
    },
    revoke(clientId) {
      revoked.add(clientId);
      for (const [token, entry] of issued) if (entry.clientId === clientId) issued.delete(token);
    },
    restore(clientId, secret) {
      revoked.delete(clientId);
      Object.assign(clients.get(clientId)!, secret);
    },
    issuedTokens: () => [...everIssued],
    accepts(user, token) {
      const entry = issued.get(token);
      if (!entry || entry.expiresAt <= Date.now()) return false;
      if (entry.subject !== undefined) return entry.subject === user;
      const allowed = clients.get(entry.clientId)?.mailboxes;
      return allowed === undefined || allowed.includes(user);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Who is asking: the client id from the form, HTTP Basic, or the service account assertion's issuer. */
function identify(path: string, form: URLSearchParams, authorization: string | undefined) {
  if (authorization?.startsWith('Basic ')) {
    const [id = '', secret = ''] = Buffer.from(authorization.slice(6), 'base64').toString().split(':');
    return {
      clientId: decodeURIComponent(id.replaceAll('+', ' ')),
      secret: decodeURIComponent(secret.replaceAll('+', ' ')),
    };
  }
  if (path === '/google/token' && form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    const claims = decodeJwt(form.get('assertion') ?? '')?.payload ?? {};
    return { clientId: String(claims.iss ?? ''), subject: String(claims.sub ?? ''), secret: undefined };
  }
  return { clientId: form.get('client_id') ?? '', secret: form.get('client_secret') ?? undefined };
}

function verify(
  client: FakeClient,
  path: string,
  grant: string,
  form: URLSearchParams,
  secret: string | undefined,
  base: string,
): { error: string; description: string } | undefined {
  const bad = (error: string, description: string) => ({ error, description });
  switch (client.kind) {
    case 'microsoft': {
      if (!/^\/[^/]+\/oauth2\/v2\.0\/token$/.test(path)) return bad('invalid_request', 'wrong endpoint');
      if (grant !== 'client_credentials') return bad('unsupported_grant_type', grant);
      if (!form.get('scope')?.endsWith('/.default'))
        return bad('invalid_scope', 'AADSTS1002012: scope must end in /.default');
      if (client.certificatePem) {
        if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
          return bad('invalid_client', 'AADSTS7000218: client_assertion required');
        }
        return verifyClientAssertion(client, form.get('client_assertion') ?? '', `${base}${path}`);
      }
      return secret === client.clientSecret
        ? undefined
        : bad('invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    }
    case 'google':
      if (grant !== 'refresh_token') return bad('unsupported_grant_type', grant);
      if (secret !== client.clientSecret) return bad('invalid_client', 'The OAuth client was not found.');
      return form.get('refresh_token') === client.refreshToken
        ? undefined
        : bad('invalid_grant', 'Token has been expired or revoked.');
    case 'google-service-account':
      return verifyServiceAssertion(client, form.get('assertion') ?? '');
    case 'generic':
      if (path !== '/generic/token') return bad('invalid_request', 'wrong endpoint');
      if (secret !== client.clientSecret) return bad('invalid_client', 'bad client credentials');
      if (grant === 'refresh_token' && form.get('refresh_token') !== client.refreshToken)
        return bad('invalid_grant', 'unknown refresh token');
      return grant === 'client_credentials' || grant === 'refresh_token'
        ? undefined
        : bad('unsupported_grant_type', grant);
  }
}

function decodeJwt(jwt: string) {
  const [header, payload, signature] = jwt.split('.');
  if (header === undefined || payload === undefined || signature === undefined) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
      payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
      signed: `${header}.${payload}`,
      signature: Buffer.from(signature, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

function signatureValid(alg: unknown, signed: string, signature: Buffer, publicKey: string): boolean {
  const verifier = createVerify('sha256').update(signed);
  if (alg === 'RS256') return verifier.verify(publicKey, signature);
  if (alg === 'PS256') {
    return verifier.verify(
      { key: publicKey, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
      signature,
    );
  }
  return false;
}

/** RFC 7523 §3 as Microsoft checks it: thumbprint header, signature by the certificate, aud, iss = sub, exp. */
function verifyClientAssertion(client: FakeClient, jwt: string, audience: string) {
  const bad = (description: string) => ({
    error: 'invalid_client',
    description: `AADSTS700027: ${description}`,
  });
  const decoded = decodeJwt(jwt);
  if (!decoded) return bad('client assertion is not a JWT');
  const cert = new X509Certificate(client.certificatePem!);
  const sha1 = createHash('sha1').update(cert.raw).digest('base64url');
  const sha256 = createHash('sha256').update(cert.raw).digest('base64url');
  const { header, payload } = decoded;
  if (header.x5t !== sha1 && header['x5t#S256'] !== sha256)
    return bad('thumbprint does not match the certificate');
  if (
    !signatureValid(
      header.alg,
      decoded.signed,
      decoded.signature,
      cert.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    )
  ) {
    return bad('signature does not verify');
  }
  if (payload.aud !== audience) return bad(`aud ${String(payload.aud)} is not ${audience}`);
  if (payload.iss !== client.clientId || payload.sub !== client.clientId)
    return bad('iss and sub must be the client id');
  if (typeof payload.exp !== 'number' || payload.exp * 1000 < Date.now()) return bad('assertion expired');
  return undefined;
}

/** Google's jwt-bearer grant: signed by the service account's key, aud Google, subject allowed, scope given. */
function verifyServiceAssertion(client: FakeClient, jwt: string) {
  const bad = (description: string) => ({ error: 'invalid_grant', description });
  const decoded = decodeJwt(jwt);
  if (
    !decoded ||
    !signatureValid(decoded.header.alg, decoded.signed, decoded.signature, client.publicKeyPem!)
  ) {
    return bad('Invalid JWT Signature.');
  }
  const { payload } = decoded;
  if (payload.aud !== GOOGLE_AUDIENCE) return bad('Invalid JWT: aud');
  if (payload.scope !== 'https://mail.google.com/') return bad('invalid_scope');
  if (client.mailboxes && !client.mailboxes.includes(String(payload.sub))) {
    return {
      error: 'unauthorized_client',
      description: 'Client is unauthorized to retrieve access tokens using this method',
    };
  }
  return undefined;
}

const run = promisify(execFile);

/** An RSA key and a self-signed certificate for a Microsoft certificate credential (openssl). */
export async function createSigningCertificate(): Promise<{
  certPem: string;
  keyPem: string;
  sha1: string;
  sha256: string;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'pophook-signing-'));
  try {
    await run(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        '-subj',
        '/CN=pophook-test-app',
        '-days',
        '2',
      ],
      { cwd: dir },
    );
    const certPem = await readFile(join(dir, 'cert.pem'), 'utf8');
    const keyPem = await readFile(join(dir, 'key.pem'), 'utf8');
    const cert = new X509Certificate(certPem);
    const hex = (fingerprint: string) => fingerprint.replaceAll(':', '');
    return { certPem, keyPem, sha1: hex(cert.fingerprint), sha256: hex(cert.fingerprint256) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A service account JSON key as Google issues them, and the public half for the fake. */
export function createServiceAccountKey(email: string): { json: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const json = JSON.stringify({
    type: 'service_account',
    client_email: email,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    private_key_id: randomBytes(8).toString('hex'),
    token_uri: GOOGLE_AUDIENCE,
  });
  return { json, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/**
 * Options for a fake POP3 server (test/helpers/fake-pop3-server.ts) that speaks implicit TLS and takes a
 * login only with an unexpired token `endpoint` issued: XOAUTH2 unless `sasl` says otherwise.
 */
export function tokenPop3Options(
  endpoint: Pick<FakeTokenEndpoint, 'accepts'>,
  tls: { certPem: string; keyPem: string },
  sasl: string[] = ['XOAUTH2'],
) {
  return {
    tls,
    implicitTls: true,
    sasl,
    users: {},
    tokens: (user: string, token: string) => endpoint.accepts(user, token),
  };
}
