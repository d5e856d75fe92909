// One pophook deployment for tests that drive it in-process: the config document as a file (for CLI
// commands run through run-cli.ts) and as a Runtime on the same Redis (for pollOnce and the ops layer).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/index.ts';
import { createRuntime, type Runtime } from '../../src/runtime/runtime.ts';
import { type Logger, silentLogger } from '../../src/telemetry/logger.ts';

export async function inProcessDeployment(
  document: Record<string, unknown>,
  dir: string,
  logger: Logger = silentLogger,
): Promise<{ configPath: string; rt: Runtime }> {
  const configPath = join(dir, 'pophook.yml');
  await writeFile(configPath, stringify(document));
  const config = await parseConfig(stringify(document), { env: {}, baseDir: dir, sourceName: 'test' });
  return { configPath, rt: await createRuntime(config, logger) };
}

/** A mailbox of user alice on a loopback POP3 server, USER/PASS in plain text, webhook `rx`, polled every minute. */
export function plainTextMailbox(port: number, password: string): Record<string, unknown> {
  return {
    host: '127.0.0.1',
    port,
    tls: 'none',
    allowPlaintextAuth: true,
    auth: 'user',
    username: 'alice',
    password,
    webhook: 'rx',
    pollInterval: '1m',
  };
}
