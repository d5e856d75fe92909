// A runtime (real Redis, real queues) for one mailbox `inbox` on a fake POP3 server, plain text on
// loopback, delivering to a webhook `rx` nobody listens on: for tests of the poll side alone.
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { type Config, parseConfig } from '../../../src/config/index.ts';
import { createRuntime, type Runtime } from '../../../src/runtime/runtime.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';

export async function fakeServerRuntime(
  redisUrl: string,
  pop3Port: number,
  prefix: string,
): Promise<Runtime> {
  const config: Config = await parseConfig(
    stringify({
      redis: { url: redisUrl, prefix: `${prefix}${randomBytes(3).toString('hex')}` },
      webhooks: {
        rx: { url: 'http://127.0.0.1:9/hook', secret: `whsec_${randomBytes(32).toString('base64')}` },
      },
      mailboxes: {
        inbox: {
          host: '127.0.0.1',
          port: pop3Port,
          tls: 'none',
          allowPlaintextAuth: true,
          username: 'alice',
          password: 'secret',
          webhook: 'rx',
        },
      },
    }),
    { env: {}, baseDir: '.', sourceName: 'test' },
  );
  return createRuntime(config, silentLogger);
}
