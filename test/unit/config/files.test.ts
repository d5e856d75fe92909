// passwordFile, accessTokenFile, secretFile and ca: read relative to the config file, trimmed, checked.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { configText, type Doc, issuePaths, issuesOf, parse, SECRET } from './helpers.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pophook-config-'));
  await writeFile(join(dir, 'pop3-password'), 'from-file-pw\n');
  await writeFile(join(dir, 'crlf-password'), 'crlf-pw\r\n');
  await writeFile(join(dir, 'token'), 'ya29.from-file');
  await writeFile(join(dir, 'webhook-secret'), `${SECRET}\n`);
  await writeFile(join(dir, 'weak-secret'), 'whsec_c2hvcnQ=\n');
  await writeFile(join(dir, 'two-lines'), 'line-one\nline-two\n');
  await writeFile(join(dir, 'empty'), '\n');
  await writeFile(join(dir, 'ca.pem'), PEM);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function withFiles(edit: (doc: Doc) => void): string {
  return configText(edit);
}

describe('file-backed secrets', () => {
  it('reads passwordFile, secretFile and ca relative to the config file, trimming the newline', async () => {
    const text = withFiles((doc) => {
      delete doc.mailboxes.support.password;
      doc.mailboxes.support.passwordFile = 'pop3-password';
      doc.mailboxes.support.ca = './ca.pem';
      delete doc.webhooks.tickets.secret;
      doc.webhooks.tickets.secretFile = 'webhook-secret';
    });
    await writeFile(join(dir, 'pophook.yml'), text);
    const config = await loadConfig(join(dir, 'pophook.yml'), {});
    expect(config.mailboxes.support!.password).toBe('from-file-pw');
    expect(config.mailboxes.support!.caPem).toBe(PEM);
    expect(config.webhooks.tickets!.secret).toBe(SECRET);
  });

  it('reads redis.ca for rediss://, and names redis.ca when the file holds no certificate', async () => {
    const good = withFiles((doc) => (doc.redis = { url: 'rediss://127.0.0.1:6380', ca: './ca.pem' }));
    expect((await parse(good, {}, dir)).redis.caPem).toBe(PEM);
    const bad = withFiles((doc) => (doc.redis = { url: 'rediss://127.0.0.1:6380', ca: 'pop3-password' }));
    expect(await issuePaths(parse(bad, {}, dir))).toEqual(['redis.ca']);
  });

  it('trims CRLF and reads accessTokenFile from an absolute path', async () => {
    const text = withFiles((doc) => {
      delete doc.mailboxes.support.password;
      doc.mailboxes.support.auth = 'xoauth2';
      doc.mailboxes.support.accessTokenFile = join(dir, 'token');
      doc.mailboxes.other = { ...doc.mailboxes.support, accessTokenFile: undefined, auth: 'plain' };
      delete doc.mailboxes.other.accessTokenFile;
      doc.mailboxes.other.passwordFile = 'crlf-password';
    });
    const config = await parse(text, {}, dir);
    expect(config.mailboxes.support!.accessToken).toBe('ya29.from-file');
    expect(config.mailboxes.other!.password).toBe('crlf-pw');
  });

  it('reports every unreadable, empty, multi-line or malformed file at the path that names it', async () => {
    const text = withFiles((doc) => {
      delete doc.mailboxes.support.password;
      doc.mailboxes.support.passwordFile = 'missing-file';
      doc.mailboxes.support.ca = 'pop3-password';
      delete doc.webhooks.tickets.secret;
      doc.webhooks.tickets.secretFile = 'weak-secret';
      doc.mailboxes.two = { host: 'h', username: 'u', passwordFile: 'two-lines', webhook: 'tickets' };
      doc.mailboxes.three = { host: 'h', username: 'u', passwordFile: 'empty', webhook: 'tickets' };
    });
    expect(await issuePaths(parse(text, {}, dir))).toEqual([
      'mailboxes.support.ca',
      'mailboxes.support.passwordFile',
      'mailboxes.three.passwordFile',
      'mailboxes.two.passwordFile',
      'webhooks.tickets.secretFile',
    ]);
  });

  it('reports unreadable files alongside schema problems', async () => {
    const text = withFiles((doc) => {
      delete doc.mailboxes.support.password;
      doc.mailboxes.support.passwordFile = 'missing-file';
      doc.mailboxes.support.port = 'nine';
    });
    expect(await issuePaths(parse(text, {}, dir))).toEqual([
      'mailboxes.support.passwordFile',
      'mailboxes.support.port',
    ]);
  });

  it('never puts a file secret into an issue', async () => {
    const text = withFiles((doc) => {
      delete doc.webhooks.tickets.secret;
      doc.webhooks.tickets.secretFile = 'weak-secret';
      doc.mailboxes.support.passwordFile = 'two-lines';
    });
    const issues = JSON.stringify(await issuesOf(parse(text, {}, dir)));
    expect(issues).not.toContain('c2hvcnQ');
    expect(issues).not.toContain('line-one');
  });
});
