// Files of the package beside the code: the code runs either as the TypeScript sources (src/x.ts) or as the
// compiled JavaScript one level deeper (dist/src/x.js), so a path from the package root is resolved here,
// once, for both layouts.
import { fileURLToPath } from 'node:url';

/** True when this is the compiled JavaScript in dist/, false under tsx or vitest. */
export const COMPILED: boolean = import.meta.url.endsWith('.js');

const ROOT = new URL(COMPILED ? '../../' : '../', import.meta.url);

/** `relative` (e.g. 'schema/payload-v1.schema.json') from the package root, as a file URL. */
export function packageFileUrl(relative: string): URL {
  return new URL(relative, ROOT);
}

/** The same as a path. */
export function packageFile(relative: string): string {
  return fileURLToPath(packageFileUrl(relative));
}
