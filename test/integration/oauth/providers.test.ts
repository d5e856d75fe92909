// Each token provider against the loopback fake endpoint over HTTPS (trusted through the credential's
// `ca`): Microsoft 365 with a client secret and with a certificate (a client assertion the fake verifies),
// Google refresh token and service account, a generic RFC 6749 endpoint; and every failure coded.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialConfig } from '../../../src/config/index.ts';
import { isPophookError, type PophookError } from '../../../src/errors.ts';
import { createTokenProvider } from '../../../src/oauth/index.ts';
import {
  createServiceAccountKey,
  createSigningCertificate,
  type FakeTokenEndpoint,
  startFakeTokenEndpoint,
} from '../../helpers/fake-token-endpoint.ts';
import { createTestCertificates, type TestCertificates } from '../../helpers/test-certs.ts';

const M365_SECRET = 'm365~Client.Secret-123';
const GOOGLE_SECRET = 'GOCSPX-google-secret';
const REFRESH = '1//google-refresh-token';
const GENERIC_SECRET = 'generic secret+with/odd:chars';
const SA_EMAIL = 'pophook@proj.iam.gserviceaccount.com';

let certs: TestCertificates;
let fake: FakeTokenEndpoint;
let signing: Awaited<ReturnType<typeof createSigningCertificate>>;
let serviceKey: ReturnType<typeof createServiceAccountKey>;
let dir: string;

beforeAll(async () => {
  certs = await createTestCertificates();
  signing = await createSigningCertificate();
  serviceKey = createServiceAccountKey(SA_EMAIL);
  dir = await mkdtemp(join(tmpdir(), 'pophook-oauth-'));
  fake = await startFakeTokenEndpoint({
    tls: certs,
    lifetimeSeconds: 60,
    clients: [
      { kind: 'microsoft', clientId: 'm365-app', clientSecret: M365_SECRET },
      { kind: 'microsoft', clientId: 'm365-cert-app', certificatePem: signing.certPem },
      { kind: 'google', clientId: 'google-app', clientSecret: GOOGLE_SECRET, refreshToken: REFRESH },
      {
        kind: 'google-service-account',
        clientId: SA_EMAIL,
        publicKeyPem: serviceKey.publicKeyPem,
        mailboxes: ['inbox@example.com'],
      },
      { kind: 'generic', clientId: 'generic-app', clientSecret: GENERIC_SECRET, refreshToken: 'rt-generic' },
    ],
  });
});

afterAll(async () => {
  await fake?.stop();
  await certs?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const common = () => ({
  caPem: certs.caPem,
  timeoutMs: 5_000,
  refreshBeforeMs: 1_000,
  failureBackoffMs: 1_000,
});

function m365(extra: Partial<CredentialConfig> = {}): CredentialConfig {
  return {
    ...common(),
    id: 'm365',
    type: 'microsoft365',
    authority: fake.authority,
    tenant: 'contoso.onmicrosoft.com',
    clientId: 'm365-app',
    scope: 'https://outlook.office365.com/.default',
    clientSecret: { value: M365_SECRET },
    ...extra,
  } as CredentialConfig;
}

async function tokenOf(credential: CredentialConfig, subject = 'inbox@example.com') {
  const provider = createTokenProvider(credential, subject);
  try {
    return await provider.getToken({ forceRefresh: true });
  } finally {
    await provider.close();
  }
}

async function failureOf(credential: CredentialConfig, subject?: string): Promise<PophookError> {
  const error = await tokenOf(credential, subject).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isPophookError(error)) throw new Error(`expected a PophookError, got ${String(error)}`);
  return error;
}

describe('Microsoft 365 (msal-node)', () => {
  it('client secret: a token for the configured authority, no instance discovery', async () => {
    const before = fake.requests.length;
    const token = await tokenOf(m365());
    expect(fake.accepts('anyone@example.com', token.accessToken)).toBe(true);
    expect(token.expiresAt).toBeGreaterThan(Date.now() + 50_000);
    // One POST to the token endpoint, nothing else (the fake answers 404 to any discovery GET).
    expect(fake.requests.slice(before)).toMatchObject([
      { clientId: 'm365-app', grant: 'client_credentials', status: 200 },
    ]);
  });

  it('certificate: the client assertion verifies against the certificate, SHA-1 and SHA-256 thumbprints', async () => {
    for (const thumbprint of [signing.sha1, signing.sha256]) {
      const credential = m365({
        clientId: 'm365-cert-app',
        privateKey: { value: signing.keyPem },
        thumbprint,
      });
      delete (credential as { clientSecret?: unknown }).clientSecret;
      const token = await tokenOf(credential);
      expect(fake.accepts('x@example.com', token.accessToken)).toBe(true);
    }
  });

  it('a wrong secret is OAUTH_INVALID_CLIENT with the provider text and without the secret', async () => {
    const error = await failureOf(m365({ clientSecret: { value: 'wrong-secret-value' } }));
    expect(error.code).toBe('OAUTH_INVALID_CLIENT');
    expect(error.retryable).toBe(false);
    expect(error.details.providerText).toMatch(/AADSTS7000215/);
    expect(JSON.stringify({ m: error.message, d: error.details, c: String(error.cause) })).not.toContain(
      'wrong-secret-value',
    );
  });

  it('5xx and an unreachable endpoint are OAUTH_ENDPOINT_UNAVAILABLE, retryable', async () => {
    fake.inject({ status: 503, error: 'temporarily_unavailable' }, 1, 'm365-app');
    const busy = await failureOf(m365());
    expect([busy.code, busy.retryable]).toEqual(['OAUTH_ENDPOINT_UNAVAILABLE', true]);
    const closed = await failureOf(m365({ authority: 'https://127.0.0.1:1' }));
    expect([closed.code, closed.retryable]).toEqual(['OAUTH_ENDPOINT_UNAVAILABLE', true]);
  });

  it('a scope the endpoint refuses is OAUTH_INVALID_SCOPE', async () => {
    const error = await failureOf(m365({ scope: 'https://outlook.office365.com/POP.AccessAsUser.All' }));
    expect(error.code).toBe('OAUTH_INVALID_SCOPE');
  });
});

describe('Google (google-auth-library)', () => {
  const google = (extra: Partial<CredentialConfig> = {}): CredentialConfig =>
    ({
      ...common(),
      id: 'gmail',
      type: 'google',
      tokenUrl: fake.googleTokenUrl,
      clientId: 'google-app',
      clientSecret: { value: GOOGLE_SECRET },
      refreshToken: { value: REFRESH },
      ...extra,
    }) as CredentialConfig;
  const serviceAccount = (): CredentialConfig => ({
    ...common(),
    id: 'workspace',
    type: 'google-service-account',
    tokenUrl: fake.googleTokenUrl,
    scope: 'https://mail.google.com/',
    serviceAccountKey: { value: serviceKey.json },
  });

  it('refresh token: a token from the configured token URL', async () => {
    const token = await tokenOf(google());
    expect(fake.accepts('me@gmail.com', token.accessToken)).toBe(true);
  });

  it('a revoked refresh token is OAUTH_INVALID_GRANT, never echoing the token', async () => {
    const error = await failureOf(google({ refreshToken: { value: '1//revoked-refresh' } }));
    expect(error.code).toBe('OAUTH_INVALID_GRANT');
    expect(`${error.message}${JSON.stringify(error.details)}${String(error.cause)}`).not.toContain(
      '1//revoked-refresh',
    );
  });

  it('service account: a JWT grant signed by the key, acting as the mailbox user only', async () => {
    const token = await tokenOf(serviceAccount(), 'inbox@example.com');
    expect(fake.accepts('inbox@example.com', token.accessToken)).toBe(true);
    expect(fake.accepts('other@example.com', token.accessToken)).toBe(false);
    const refused = await failureOf(serviceAccount(), 'other@example.com');
    expect(refused.code).toBe('OAUTH_INVALID_CLIENT');
  });

  it('a secret from a file is read again at every request (rotation without restart)', async () => {
    const file = join(dir, 'google-secret');
    await writeFile(file, 'stale-secret\n');
    const credential = google({ clientSecret: { value: 'stale-secret', file } });
    expect((await failureOf(credential)).code).toBe('OAUTH_INVALID_CLIENT');
    await writeFile(file, `${GOOGLE_SECRET}\n`);
    expect((await tokenOf(credential)).accessToken).toMatch(/^fake-at-/);
  });
});

describe('generic RFC 6749 endpoint', () => {
  const generic = (extra: Record<string, unknown>): CredentialConfig =>
    ({
      ...common(),
      id: 'dovecot',
      type: 'oauth2',
      tokenUrl: fake.genericTokenUrl,
      grant: 'client_credentials',
      clientAuth: 'basic',
      clientId: 'generic-app',
      clientSecret: { value: GENERIC_SECRET },
      ...extra,
    }) as CredentialConfig;

  it('client credentials with HTTP Basic and in the form; refresh token grant', async () => {
    for (const extra of [
      {},
      { clientAuth: 'post' },
      { grant: 'refresh_token', refreshToken: { value: 'rt-generic' } },
    ]) {
      const token = await tokenOf(generic(extra));
      expect(fake.accepts('u', token.accessToken)).toBe(true);
    }
  });

  it('maps invalid_client, invalid_grant and 5xx', async () => {
    expect((await failureOf(generic({ clientSecret: { value: 'nope-secret' } }))).code).toBe(
      'OAUTH_INVALID_CLIENT',
    );
    const badGrant = generic({ grant: 'refresh_token', refreshToken: { value: 'rt-unknown' } });
    expect((await failureOf(badGrant)).code).toBe('OAUTH_INVALID_GRANT');
    fake.inject({ status: 500 }, 1, 'generic-app');
    expect((await failureOf(generic({}))).code).toBe('OAUTH_ENDPOINT_UNAVAILABLE');
  });
});
