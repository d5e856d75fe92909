// The attachments policy of a webhook and the storage section: defaults, the units in names, the rules
// that tie them together (reference needs storage, policies need the pophook shape, keys come in pairs),
// key files, and the SigV4 ceiling of a URL's lifetime.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configText, exampleOf, issuePaths, issuesOf, parse } from './helpers.ts';

const STORAGE = { endpoint: 'http://127.0.0.1:9000', bucket: 'mail-attachments', forcePathStyle: true };

describe('webhooks.<id>.attachments and storage', () => {
  it('builds a reference policy and the storage it needs, with defaults and units in names', async () => {
    const config = await parse(
      configText((doc) => {
        doc.webhooks.tickets.attachments = {
          mode: 'reference',
          threshold: '1MB',
          skip: { types: ['image/*', 'Application/PGP-Signature'] },
        };
        doc.storage = { ...STORAGE, accessKeyId: 'minio', secretAccessKey: 'minio-secret' };
      }),
    );
    expect(config.webhooks.tickets?.attachments).toEqual({
      mode: 'reference',
      referenceFromBytes: 1_000_000,
      skip: { types: ['image/*', 'application/pgp-signature'], belowBytes: 16_000 },
    });
    expect(config.storage).toEqual({
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      bucket: 'mail-attachments',
      prefix: 'pophook/',
      credentials: { accessKeyId: 'minio', secretAccessKey: 'minio-secret' },
      forcePathStyle: true,
      urlExpiryMs: 7 * 86_400_000,
    });
  });

  it('leaves credentials to the SDK default chain when none are given', async () => {
    const config = await parse(
      configText((doc) => {
        doc.storage = { bucket: 'mail-attachments' };
      }),
    );
    expect(config.storage?.credentials).toBeUndefined();
    expect(config.storage?.endpoint).toBeUndefined();
  });

  it('reads the keys from files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pophook-config-'));
    await writeFile(join(dir, 'id'), 'AKIAEXAMPLE\n');
    await writeFile(join(dir, 'secret'), 'wJalrXUtnFEMI\n');
    const text = configText((doc) => {
      doc.storage = { bucket: 'mail-attachments', accessKeyIdFile: 'id', secretAccessKeyFile: 'secret' };
    });
    const config = await parse(text, {}, dir);
    expect(config.storage?.credentials).toEqual({
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI',
    });
  });

  it('refuses reference mode without a storage section, naming both', async () => {
    const text = configText((doc) => {
      doc.webhooks.tickets.attachments = { mode: 'reference' };
    });
    const issues = await issuesOf(parse(text));
    expect(issues.map((issue) => issue.path)).toEqual(['webhooks.tickets.attachments.mode']);
    expect(issues[0]?.message).toContain('storage');
  });

  it('refuses reference or skip with the Postmark shape', async () => {
    for (const attachments of [{ mode: 'reference' }, { skip: { types: ['image/png'] } }]) {
      const text = configText((doc) => {
        doc.webhooks.tickets.format = 'postmark';
        doc.webhooks.tickets.attachments = attachments;
        doc.storage = STORAGE;
      });
      expect(await issuePaths(parse(text))).toEqual(['webhooks.tickets.attachments']);
    }
  });

  it('wants access keys in pairs, each given once', async () => {
    const cases: Array<[Record<string, string>, string[]]> = [
      [{ accessKeyId: 'a' }, ['storage.secretAccessKey']],
      [{ secretAccessKey: 's' }, ['storage.accessKeyId']],
      [{ accessKeyId: 'a', accessKeyIdFile: 'a.txt', secretAccessKey: 's' }, ['storage.accessKeyIdFile']],
    ];
    for (const [keys, paths] of cases) {
      const text = configText((doc) => {
        doc.storage = { ...STORAGE, ...keys };
      });
      expect(await issuePaths(parse(text))).toEqual(expect.arrayContaining(paths));
    }
  });

  it('caps urlExpiry at 7 days (SigV4) and checks bucket names and content types', async () => {
    const text = configText((doc) => {
      doc.storage = { bucket: 'Bad_Bucket', urlExpiry: '8d', prefix: 'no-slash' };
      doc.webhooks.tickets.attachments = { skip: { types: ['png'] } };
    });
    expect((await issuePaths(parse(text))).sort()).toEqual([
      'storage.bucket',
      'storage.prefix',
      'storage.urlExpiry',
      'webhooks.tickets.attachments.skip.types[0]',
    ]);
  });

  it('README "Attachments by reference": valid, only the named secret files unreadable', async () => {
    const issues = await issuesOf(parse(await exampleOf('Attachments by reference')));
    expect(issues.map((issue) => issue.path).sort()).toEqual([
      'mailboxes.invoices.passwordFile',
      'storage.accessKeyIdFile',
      'storage.secretAccessKeyFile',
      'webhooks.invoices.secretFile',
    ]);
    for (const issue of issues) expect(issue.message).toMatch(/^cannot read \/run\/secrets\/.* \(ENOENT\)$/);
  });
});
