// The `credentials:` section and `mailboxes.<id>.credential/provider`: per-type requirements and defaults,
// secrets from files (with their path kept for re-reading), provider profiles, and masking.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configText, type Doc, issuePaths, parse } from './helpers.ts';

const CLIENT_SECRET = 'm365-Secret~value.123';
const REFRESH = '1//refresh-token-value';
const SA_KEY = JSON.stringify({
  type: 'service_account',
  client_email: 'pophook@project.iam.gserviceaccount.com',
  private_key: '-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\n',
});
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pophook-credentials-'));
  await writeFile(join(dir, 'client-secret'), `${CLIENT_SECRET}\n`);
  await writeFile(join(dir, 'sa.json'), SA_KEY);
  await writeFile(join(dir, 'not-json'), 'hello');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A document whose mailbox logs in with credential `cred` (the given entry). */
function withCredential(credential: Doc, mailbox: Doc = {}): string {
  return configText((doc) => {
    doc.credentials = { cred: credential };
    const m = doc.mailboxes.support;
    delete m.password;
    Object.assign(m, { credential: 'cred', ...mailbox });
  });
}

const m365 = { type: 'microsoft365', tenant: 'contoso.onmicrosoft.com', clientId: 'app-id' };

describe('credentials', () => {
  it('microsoft365 with a client secret from a file: defaults filled, the file path kept', async () => {
    const config = await parse(withCredential({ ...m365, clientSecretFile: 'client-secret' }), {}, dir);
    expect(config.credentials?.cred).toMatchObject({
      type: 'microsoft365',
      authority: 'https://login.microsoftonline.com',
      scope: 'https://outlook.office365.com/.default',
      clientSecret: { value: CLIENT_SECRET, file: join(dir, 'client-secret') },
      timeoutMs: 15_000,
      refreshBeforeMs: 300_000,
      failureBackoffMs: 60_000,
    });
    expect(config.mailboxes.support).toMatchObject({ credential: 'cred', auth: 'auto' });
  });

  it('microsoft365 needs a secret or a certificate, and a thumbprint with the certificate', async () => {
    expect(await issuePaths(parse(withCredential(m365)))).toEqual(['credentials.cred.clientSecret']);
    const keyOnly = withCredential({ ...m365, privateKey: '-----BEGIN PRIVATE KEY-----' });
    expect(await issuePaths(parse(keyOnly))).toEqual(['credentials.cred.thumbprint']);
    const both = withCredential({ ...m365, clientSecret: 's', privateKey: 'k', thumbprint: 'ab'.repeat(20) });
    expect(await issuePaths(parse(both))).toEqual(['credentials.cred.privateKey']);
    const badPrint = withCredential({ ...m365, privateKey: 'k', thumbprint: 'xyz' });
    expect(await issuePaths(parse(badPrint))).toEqual(['credentials.cred.thumbprint']);
  });

  it('refuses a non-https authority (MSAL would) and keys another type uses', async () => {
    const http = withCredential({ ...m365, clientSecret: 's', authority: 'http://login.example' });
    expect(await issuePaths(parse(http))).toEqual(['credentials.cred.authority']);
    const foreign = withCredential({ ...m365, clientSecret: 's', refreshToken: REFRESH });
    expect(await issuePaths(parse(foreign))).toEqual(['credentials.cred.refreshToken']);
  });

  it('google needs client id, secret and refresh token; the token URL defaults to Google', async () => {
    const missing = withCredential({ type: 'google', clientId: 'id' });
    expect(await issuePaths(parse(missing))).toEqual([
      'credentials.cred.clientSecret',
      'credentials.cred.refreshToken',
    ]);
    const config = await parse(
      withCredential({ type: 'google', clientId: 'id', clientSecret: 'cs', refreshToken: REFRESH }),
    );
    expect(config.credentials?.cred).toMatchObject({
      tokenUrl: 'https://oauth2.googleapis.com/token',
      refreshToken: { value: REFRESH },
    });
  });

  it('a service account key must be a JSON key, inline or from a file', async () => {
    const config = await parse(
      withCredential({ type: 'google-service-account', serviceAccountKeyFile: 'sa.json' }),
      {},
      dir,
    );
    expect(config.credentials?.cred).toMatchObject({ scope: 'https://mail.google.com/' });
    const notJson = withCredential({ type: 'google-service-account', serviceAccountKeyFile: 'not-json' });
    expect(await issuePaths(parse(notJson, {}, dir))).toEqual(['credentials.cred.serviceAccountKeyFile']);
    const inline = withCredential({ type: 'google-service-account', serviceAccountKey: '{"a":1}' });
    expect(await issuePaths(parse(inline))).toEqual(['credentials.cred.serviceAccountKey']);
  });

  it('oauth2: the grant decides what is needed', async () => {
    const base = { type: 'oauth2', tokenUrl: 'https://idp.example/token', clientId: 'c' };
    const cc = withCredential({ ...base, grant: 'client_credentials' });
    expect(await issuePaths(parse(cc))).toEqual(['credentials.cred.clientSecret']);
    const rt = withCredential({ ...base, grant: 'refresh_token' });
    expect(await issuePaths(parse(rt))).toEqual(['credentials.cred.refreshToken']);
    const ok = await parse(withCredential({ ...base, grant: 'client_credentials', clientSecret: 's' }));
    expect(ok.credentials?.cred).toMatchObject({ clientAuth: 'basic', grant: 'client_credentials' });
  });

  it('a mailbox names a known credential, and not together with a static token', async () => {
    const unknown = configText((doc) => {
      delete doc.mailboxes.support.password;
      doc.mailboxes.support.credential = 'nope';
    });
    expect(await issuePaths(parse(unknown))).toEqual(['mailboxes.support.credential']);
    const both = withCredential({ ...m365, clientSecret: 's' }, { accessToken: 'ya29' });
    expect(await issuePaths(parse(both))).toEqual(['mailboxes.support.credential']);
    const withPassword = withCredential({ ...m365, clientSecret: 's' }, { auth: 'plain', password: 'pw' });
    expect(await issuePaths(parse(withPassword))).toEqual(['mailboxes.support.credential']);
  });
});

describe('provider profiles', () => {
  it('microsoft365 and gmail fill in host, port, tls and auth; explicit values win', async () => {
    const config = await parse(
      withCredential({ ...m365, clientSecret: 's' }, { provider: 'microsoft365', host: undefined }),
    );
    expect(config.mailboxes.support).toMatchObject({
      host: 'outlook.office365.com',
      port: 995,
      tls: 'implicit',
      auth: 'xoauth2',
    });
    const gmail = await parse(
      withCredential(
        { ...m365, clientSecret: 's' },
        { provider: 'gmail', host: undefined, auth: 'oauthbearer' },
      ),
    );
    expect(gmail.mailboxes.support).toMatchObject({ host: 'pop.gmail.com', auth: 'oauthbearer' });
  });

  it('generic or no provider still needs a host', async () => {
    const text = configText((doc) => {
      delete doc.mailboxes.support.host;
      doc.mailboxes.support.provider = 'generic';
    });
    expect(await issuePaths(parse(text))).toEqual(['mailboxes.support.host']);
  });
});
