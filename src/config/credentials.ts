// The `credentials:` section: OAuth 2.0 credentials that mailboxes name, their per-type defaults and
// rules, and the provider profiles of mailboxes. One object schema for every type (not a union) so the
// generated reference lists each key and unknown keys get "did you mean". build.ts turns an entry into the
// CredentialConfig of types.ts.

import * as z from 'zod';
import { documented as doc, duration, expecting, filePath, httpUrl, line, oneOf } from './fields.ts';

export const CREDENTIAL_TYPES = ['microsoft365', 'google', 'google-service-account', 'oauth2'] as const;
type CredentialType = (typeof CREDENTIAL_TYPES)[number];
export const OAUTH2_GRANTS = ['client_credentials', 'refresh_token'] as const;
export const CLIENT_AUTH_METHODS = ['basic', 'post'] as const;

/** Defaults that depend on the type; the reference quotes them in each key's description. */
export const CREDENTIAL_DEFAULTS = {
  authority: 'https://login.microsoftonline.com',
  microsoft365Scope: 'https://outlook.office365.com/.default',
  googleScope: 'https://mail.google.com/',
  googleTokenUrl: 'https://oauth2.googleapis.com/token',
} as const;

/** Where a mailbox's host/port/tls/auth come from when it names a provider. */
export const MAILBOX_PROVIDERS = ['microsoft365', 'gmail', 'generic'] as const;
export type MailboxProvider = (typeof MAILBOX_PROVIDERS)[number];
export const PROVIDER_DEFAULTS = {
  // learn.microsoft.com "POP, IMAP, and SMTP settings": outlook.office365.com:995, SSL/TLS, OAuth only.
  microsoft365: { host: 'outlook.office365.com', port: 995, tls: 'implicit', auth: 'xoauth2' },
  // support.google.com/mail/answer/7104828: pop.gmail.com:995, SSL required. support.google.com/mail/
  // answer/47948 ("How does POP work in Gmail?"): a session lists about 250 of the oldest unpopped messages.
  gmail: { host: 'pop.gmail.com', port: 995, tls: 'implicit', auth: 'xoauth2', listingCap: 250 },
} as const;

const MINUTE = 60_000;
const secret = (what: string, description: string) => doc(line(what), 'secret', description).optional();
const secretFile = (what: string) =>
  doc(filePath(), 'path', `file holding the ${what}; re-read at every token request`).optional();

export const credentialSchema = z
  .strictObject({
    type: doc(
      oneOf(CREDENTIAL_TYPES),
      CREDENTIAL_TYPES.join(' | '),
      'Microsoft 365 app-only, Google refresh token, Google service account, or any OAuth 2.0 endpoint',
    ),
    tenant: doc(line('a tenant'), 'string', 'microsoft365: directory (tenant) id or domain').optional(),
    authority: doc(
      httpUrl(),
      'url',
      `microsoft365: https authority host (national clouds); default ${CREDENTIAL_DEFAULTS.authority}`,
    ).optional(),
    tokenUrl: doc(
      httpUrl(),
      'url',
      `token endpoint; oauth2: required; google types: default ${CREDENTIAL_DEFAULTS.googleTokenUrl}`,
    ).optional(),
    grant: doc(
      oneOf(OAUTH2_GRANTS),
      OAUTH2_GRANTS.join(' | '),
      'oauth2: RFC 6749 §4.4 client credentials or §6 refresh token',
    ).optional(),
    clientAuth: doc(
      oneOf(CLIENT_AUTH_METHODS),
      CLIENT_AUTH_METHODS.join(' | '),
      'oauth2: client id and secret in HTTP Basic (RFC 6749 §2.3.1) or in the form; default basic',
    ).optional(),
    clientId: doc(line('a client id'), 'string', 'application (client) id').optional(),
    clientSecret: secret('a client secret', 'client secret'),
    clientSecretFile: secretFile('client secret'),
    refreshToken: secret('a refresh token', 'google, oauth2: refresh token'),
    refreshTokenFile: secretFile('refresh token'),
    privateKey: doc(
      z.string({ error: expecting('expected a PEM private key') }).min(1),
      'secret',
      'microsoft365 certificate credential: private key (PEM)',
    ).optional(),
    privateKeyFile: secretFile('certificate private key (PEM)'),
    thumbprint: doc(
      z
        .string({ error: expecting('expected a hex thumbprint') })
        .regex(/^(?:[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})$/, {
          error: 'expected the SHA-1 (40 hex) or SHA-256 (64 hex) thumbprint of the certificate',
        }),
      'string',
      'microsoft365 certificate credential: thumbprint of the certificate uploaded to the app',
    ).optional(),
    serviceAccountKey: doc(
      z.string({ error: expecting('expected the JSON key as a string') }).superRefine((text, ctx) => {
        const problem = serviceAccountKeyProblem(text);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      }),
      'secret',
      'google-service-account: the JSON key (domain-wide delegation; subject = mailbox username)',
    ).optional(),
    serviceAccountKeyFile: secretFile('service account JSON key'),
    scope: doc(
      line('a scope'),
      'string',
      `default ${CREDENTIAL_DEFAULTS.microsoft365Scope} (microsoft365), ${CREDENTIAL_DEFAULTS.googleScope} (google-service-account); oauth2: sent when given`,
    ).optional(),
    ca: doc(filePath(), 'path', 'extra trusted CA certificates (PEM) for the token endpoint').optional(),
    timeout: doc(duration(100, 10 * MINUTE), 'duration', 'time allowed for one token request').prefault(
      '15s',
    ),
    refreshBefore: doc(
      duration(0, 60 * MINUTE),
      'duration',
      'renew a cached token this long before it expires (at most a quarter of its life)',
    ).prefault('5m'),
    failureBackoff: doc(
      duration(0, 24 * 60 * MINUTE),
      'duration',
      'after invalid_client or invalid_grant, no new token request for this long',
    ).prefault('1m'),
  })
  .superRefine(checkCredential, {
    when: (payload: { value: unknown }) => payload.value !== null && typeof payload.value === 'object',
  });

export type CredentialDocument = z.output<typeof credentialSchema>;

type Loose = Record<string, unknown>;
const given = (value: unknown) => value !== undefined;

/** Which keys each type needs (one of each group) and which it may use. */
const TYPE_RULES: Record<CredentialType, { need: string[][]; allow: string[] }> = {
  microsoft365: {
    need: [['tenant'], ['clientId'], ['clientSecret', 'clientSecretFile', 'privateKey', 'privateKeyFile']],
    allow: [
      'authority',
      'tenant',
      'clientId',
      'clientSecret',
      'clientSecretFile',
      'privateKey',
      'privateKeyFile',
      'thumbprint',
      'scope',
    ],
  },
  google: {
    need: [['clientId'], ['clientSecret', 'clientSecretFile'], ['refreshToken', 'refreshTokenFile']],
    allow: ['tokenUrl', 'clientId', 'clientSecret', 'clientSecretFile', 'refreshToken', 'refreshTokenFile'],
  },
  'google-service-account': {
    need: [['serviceAccountKey', 'serviceAccountKeyFile']],
    allow: ['tokenUrl', 'serviceAccountKey', 'serviceAccountKeyFile', 'scope'],
  },
  oauth2: {
    need: [['tokenUrl'], ['grant'], ['clientId']],
    allow: [
      'tokenUrl',
      'grant',
      'clientAuth',
      'clientId',
      'clientSecret',
      'clientSecretFile',
      'refreshToken',
      'refreshTokenFile',
      'scope',
    ],
  },
};
const TYPE_KEYS = [...new Set(Object.values(TYPE_RULES).flatMap((rule) => rule.allow))];
const PAIRS = [
  ['clientSecret', 'clientSecretFile'],
  ['refreshToken', 'refreshTokenFile'],
  ['privateKey', 'privateKeyFile'],
  ['serviceAccountKey', 'serviceAccountKeyFile'],
] as const;

function checkCredential(credential: Loose, ctx: z.RefinementCtx): void {
  const issue = (key: string, message: string) => ctx.addIssue({ code: 'custom', path: [key], message });
  for (const [value, file] of PAIRS) {
    if (given(credential[value]) && given(credential[file]))
      issue(file, `give ${value} or ${file}, not both`);
  }
  const type = credential.type as CredentialType;
  const rule = TYPE_RULES[type];
  if (rule === undefined) return;
  for (const group of rule.need) {
    if (!group.some((key) => given(credential[key]))) {
      issue(group[0]!, `type: ${type} needs ${group.join(' or ')}`);
    }
  }
  for (const key of TYPE_KEYS.filter((k) => given(credential[k]) && !rule.allow.includes(k))) {
    issue(key, `not used with type: ${type}; remove it`);
  }
  if (type === 'microsoft365') checkMicrosoft(credential, issue);
  if (type === 'oauth2') checkOauth2(credential, issue);
}

function checkMicrosoft(credential: Loose, issue: (key: string, message: string) => void): void {
  const hasKey = given(credential.privateKey) || given(credential.privateKeyFile);
  const hasSecret = given(credential.clientSecret) || given(credential.clientSecretFile);
  if (hasKey && hasSecret) issue('privateKey', 'give a client secret or a certificate, not both');
  if (hasKey && !given(credential.thumbprint))
    issue('thumbprint', 'a certificate credential needs thumbprint');
  if (!hasKey && given(credential.thumbprint))
    issue('thumbprint', 'only used with privateKey/privateKeyFile');
  // MSAL refuses any authority that is not https (its own rule, checked here so the file says so first).
  if (typeof credential.authority === 'string' && !credential.authority.startsWith('https://')) {
    issue('authority', 'expected an https:// URL (MSAL accepts no other)');
  }
}

function checkOauth2(credential: Loose, issue: (key: string, message: string) => void): void {
  if (
    credential.grant === 'refresh_token' &&
    !given(credential.refreshToken) &&
    !given(credential.refreshTokenFile)
  ) {
    issue('refreshToken', 'grant: refresh_token needs refreshToken or refreshTokenFile');
  }
  if (credential.grant === 'client_credentials') {
    if (!given(credential.clientSecret) && !given(credential.clientSecretFile)) {
      issue('clientSecret', 'grant: client_credentials needs clientSecret or clientSecretFile');
    }
    if (given(credential.refreshToken) || given(credential.refreshTokenFile)) {
      issue(
        given(credential.refreshToken) ? 'refreshToken' : 'refreshTokenFile',
        'only used with grant: refresh_token',
      );
    }
  }
}

/** What is wrong with a service account JSON key, never quoting it. */
export function serviceAccountKeyProblem(text: string): string | undefined {
  let key: unknown;
  try {
    key = JSON.parse(text);
  } catch {
    return 'expected a service account JSON key (not valid JSON)';
  }
  const { client_email: email, private_key: pem } = (key ?? {}) as Loose;
  if (typeof email !== 'string' || typeof pem !== 'string' || !pem.includes('PRIVATE KEY')) {
    return 'expected a service account JSON key with client_email and private_key';
  }
  return undefined;
}

/** The file fields of a credential, for files.ts: secrets re-read by the provider, JSON keys as documents. */
export const CREDENTIAL_FILE_FIELDS = [
  { key: 'clientSecretFile', kind: 'secret' },
  { key: 'refreshTokenFile', kind: 'secret' },
  { key: 'privateKeyFile', kind: 'document' },
  { key: 'serviceAccountKeyFile', kind: 'document', check: serviceAccountKeyProblem },
  { key: 'ca', kind: 'pem' },
] as const;
