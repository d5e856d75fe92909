// pophook.example.yml is what newcomers copy: it must load with the variables it documents, and the
// schema's self-description (the README reference) must cover every key it shows.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { describeConfigSchema, loadConfig } from '../../../src/config/index.ts';
import { SECRET } from './helpers.ts';

const examplePath = fileURLToPath(new URL('../../../pophook.example.yml', import.meta.url));

/** The variables the example's header comment lists, with values of the documented shape. */
const DOCUMENTED_ENV = {
  TICKETS_WEBHOOK_SECRET: SECRET,
  TICKETS_API_TOKEN: 'api-token',
  SUPPORT_POP3_PASSWORD: 'pop3-password',
};

function keyPaths(node: unknown, prefix: string, sections: readonly string[]): string[] {
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, child]) => {
    // Entries of webhooks/mailboxes are ids; headers are free-form names.
    const name = sections.includes(prefix) ? '<id>' : key;
    const path = prefix === '' ? name : `${prefix}.${name}`;
    return path.endsWith('.headers') ? [path] : [path, ...keyPaths(child, path, sections)];
  });
}

describe('pophook.example.yml', () => {
  it('lists the variables it needs in its header', async () => {
    const text = await readFile(examplePath, 'utf8');
    for (const name of Object.keys(DOCUMENTED_ENV)) expect(text).toContain(`#   ${name}`);
  });

  it('loads with the environment it documents', async () => {
    const config = await loadConfig(examplePath, DOCUMENTED_ENV);
    expect(Object.keys(config.mailboxes)).toEqual(['support']);
    expect(config.mailboxes.support).toMatchObject({ port: 995, tls: 'implicit', webhook: 'tickets' });
    expect(config.webhooks.tickets!.headers).toEqual({ Authorization: 'Bearer api-token' });
    expect(config.http).toEqual({ port: 9464, host: '0.0.0.0' });
  });

  it('fails without that environment, naming each missing variable once', async () => {
    const error = await loadConfig(examplePath, {}).catch((caught: unknown) => caught);
    const paths = (error as { details: { issues: Array<{ path: string }> } }).details.issues.map(
      (i) => i.path,
    );
    expect(paths).toEqual([
      'mailboxes.support.password',
      'webhooks.tickets.headers.Authorization',
      'webhooks.tickets.secret',
    ]);
  });

  it('uses only keys that describeConfigSchema documents', async () => {
    const documented = new Set(describeConfigSchema().map((row) => row.path));
    const used = keyPaths(parseYaml(await readFile(examplePath, 'utf8')), '', ['webhooks', 'mailboxes']);
    expect(used.filter((path) => !documented.has(path))).toEqual([]);
  });
});

describe('describeConfigSchema', () => {
  it('documents every key with a type and a description, defaults in file form', () => {
    const rows = describeConfigSchema();
    for (const row of rows) {
      expect(row.type, row.path).not.toBe('');
      expect(row.description, row.path).not.toBe('');
    }
    const byPath = new Map(rows.map((row) => [row.path, row]));
    expect(byPath.get('mailboxes.<id>.pollInterval')).toMatchObject({ type: 'duration', default: '60s' });
    expect(byPath.get('mailboxes.<id>.maxMessageSize')).toMatchObject({ type: 'size', default: '50MB' });
    expect(byPath.get('mailboxes.<id>.delete')).toMatchObject({ default: true });
    expect(byPath.get('redis.url')).toMatchObject({ default: 'redis://127.0.0.1:6379' });
    expect(byPath.get('mailboxes.<id>.password')).not.toHaveProperty('default');
    expect(byPath.has('delivery.maxParts')).toBe(true);
    expect(byPath.has('webhooks.<id>.secretFile')).toBe(true);
  });
});
