// Files of the package beside the code. The code runs either as the TypeScript sources (src/x.ts, through
// tsx or vitest) or bundled into dist/ (dist/x.js, scripts/build.mjs): one level below the package root
// either way, which is what keeps this module's URL a good anchor after bundling.
import { fileURLToPath } from 'node:url';

/** True in the bundle in dist/, false under tsx or vitest. */
export const COMPILED: boolean = import.meta.url.endsWith('.cjs');

const ROOT = new URL('../', import.meta.url);

/** `relative` (e.g. 'schema/payload-v1.schema.json') from the package root, as a file URL. */
export function packageFileUrl(relative: string): URL {
  return new URL(relative, ROOT);
}

/** The same as a path. */
export function packageFile(relative: string): string {
  return fileURLToPath(packageFileUrl(relative));
}
