import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./pool-under-tsx.ts', import.meta.url));
// The same two steps as bin/pophook.js: register tsx, then import TypeScript.
const entry = `import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(script)});`;

it('starts parse threads under plain node with tsx registered, as the pophook command runs', async () => {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', entry], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    timeout: 25_000,
  });
  expect(JSON.parse(stdout)).toEqual({
    messageId: '<invoice-2025-07@example.com>',
    // The README's example payload is this message: the same key stands there.
    contentKey: '907fe373c2b584fc5d7449b4604d1346a563ed0b8f078726aad9d9abca6ea60a',
    subject: 'Invoice 2025-07',
    attachments: 2,
    size: 3136,
  });
});
