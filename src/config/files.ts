// Secrets and certificates the configuration names by path (docker secrets, Kubernetes mounts): read at
// load, relative to the config file's directory, trailing newlines trimmed (`echo secret > file`).
// It walks the interpolated tree itself, so unreadable files are reported even when the schema fails too.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CREDENTIAL_FILE_FIELDS } from './credentials.ts';
import { webhookSecretProblem } from './fields.ts';
import { formatPath } from './paths.ts';
import type { ConfigIssue } from './types.ts';

/** Bigger than any secret or CA bundle: a path pointing at the wrong file fails instead of loading it. */
const MAX_FILE_BYTES = 1024 * 1024;

interface FileField {
  /** A map of entries by id (mailboxes, webhooks, credentials), or one object (redis). */
  readonly section: 'mailboxes' | 'webhooks' | 'credentials' | 'redis' | 'storage';
  readonly key: string;
  /** secret: one line, trailing newline trimmed; document: any text (a PEM key, a JSON key). */
  readonly kind: 'secret' | 'pem' | 'document';
  readonly check?: (content: string) => string | undefined;
}

const FILE_FIELDS: readonly FileField[] = [
  { section: 'mailboxes', key: 'passwordFile', kind: 'secret' },
  { section: 'mailboxes', key: 'accessTokenFile', kind: 'secret' },
  { section: 'mailboxes', key: 'ca', kind: 'pem', check: pemProblem },
  { section: 'webhooks', key: 'secretFile', kind: 'secret', check: webhookSecretProblem },
  { section: 'redis', key: 'ca', kind: 'pem', check: pemProblem },
  { section: 'storage', key: 'accessKeyIdFile', kind: 'secret' },
  { section: 'storage', key: 'secretAccessKeyFile', kind: 'secret' },
  ...CREDENTIAL_FILE_FIELDS.map((field) => ({
    section: 'credentials' as const,
    ...field,
    ...(field.kind === 'pem' ? { check: pemProblem } : {}),
  })),
];

/** The objects of a section that may name files, with the path segments that lead to each. */
function entriesOf(field: FileField, section: Record<string, unknown>): Array<[string[], unknown]> {
  if (field.section === 'redis' || field.section === 'storage') return [[[field.section], section]];
  return Object.entries(section).map(([id, entry]) => [[field.section, id], entry]);
}

export interface FileContents {
  /** Content by issue path of the field that named the file, e.g. `mailboxes.support.passwordFile`. */
  readonly contents: ReadonlyMap<string, string>;
  /** Absolute path by the same issue path (credential secrets are read again at each token request). */
  readonly paths: ReadonlyMap<string, string>;
  readonly issues: ConfigIssue[];
}

function pemProblem(content: string): string | undefined {
  return content.includes('-----BEGIN CERTIFICATE-----') ? undefined : 'the file holds no PEM certificate';
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object';

type ReadResult = { content: string; absolute: string } | { problem: string };

/** The file's content, or what is wrong with it (its path and errno, never its content). */
async function readOne(field: FileField, filePath: string, baseDir: string): Promise<ReadResult> {
  const absolute = resolve(baseDir, filePath);
  let content: string;
  try {
    const bytes = await readFile(absolute);
    if (bytes.length > MAX_FILE_BYTES)
      return { problem: `${absolute} is larger than 1MiB; is it the right file?` };
    content = bytes.toString('utf8');
  } catch (error) {
    return { problem: `cannot read ${absolute} (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  if (field.kind === 'secret') content = content.replace(/[\r\n]+$/, '');
  if (content === '') return { problem: `${absolute} is empty` };
  if (field.kind === 'secret' && /[\r\n\0]/.test(content)) {
    return { problem: `${absolute} holds more than one line (or a NUL)` };
  }
  const problem = field.check?.(content);
  return problem === undefined ? { content, absolute } : { problem: `${absolute}: ${problem}` };
}

/** Reads every file field of the (unvalidated) tree; fields that are not non-empty strings are left to zod. */
export async function readConfigFiles(tree: unknown, baseDir: string): Promise<FileContents> {
  const contents = new Map<string, string>();
  const paths = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  const reads: Promise<void>[] = [];
  for (const field of FILE_FIELDS) {
    const section = isObject(tree) ? tree[field.section] : undefined;
    if (!isObject(section)) continue;
    for (const [segments, entry] of entriesOf(field, section)) {
      const filePath = isObject(entry) ? entry[field.key] : undefined;
      if (typeof filePath !== 'string' || filePath === '') continue;
      const path = formatPath([...segments, field.key]);
      reads.push(
        readOne(field, filePath, baseDir).then((result) => {
          if ('problem' in result) issues.push({ path, message: result.problem });
          else {
            contents.set(path, result.content);
            paths.set(path, result.absolute);
          }
        }),
      );
    }
  }
  await Promise.all(reads);
  return { contents, paths, issues };
}
