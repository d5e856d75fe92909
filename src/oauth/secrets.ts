// Credential secrets at token time: a secret that came from a file is read again at every token request,
// so a rotated docker/Kubernetes secret is used without a restart.
import { readFile } from 'node:fs/promises';
import type { SecretSource } from '../config/index.ts';
import { PophookError } from '../errors.ts';

export async function readSecret(source: SecretSource, kind: 'line' | 'document'): Promise<string> {
  if (source.file === undefined) return source.value;
  let text: string;
  try {
    text = await readFile(source.file, 'utf8');
  } catch (error) {
    throw new PophookError(
      'CONFIG_UNREADABLE',
      `cannot read ${source.file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      { cause: error, details: { path: source.file } },
    );
  }
  return kind === 'line' ? text.replace(/[\r\n]+$/, '') : text;
}
