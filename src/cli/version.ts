// The version `pophook --version` prints: package.json's, read where the package sits.
import { readFileSync } from 'node:fs';
import { packageFileUrl } from '../package-files.ts';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(packageFileUrl('package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
