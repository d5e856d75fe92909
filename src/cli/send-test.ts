// `pophook send-test WEBHOOK`: the signed test event `check` sends, to one configured webhook, on demand:
// to see a receiver verify the signature and answer, without waiting for mail.
import { PophookError } from '../errors.ts';
import { CONFIG_OPTION, parseOneId } from './args.ts';
import { checkWebhooks, writeResults } from './check.ts';
import type { CliIo } from './io.ts';
import { loadConfigFor } from './shared.ts';

export async function runSendTest(argv: string[], io: CliIo): Promise<number> {
  const options = { ...CONFIG_OPTION, json: { type: 'boolean' } } as const;
  const { values, id: webhookId } = parseOneId('send-test', argv, options, 'WEBHOOK');
  const { config } = await loadConfigFor('send-test', values.config, io, 2);
  const webhook = config.webhooks[webhookId];
  if (!webhook) {
    const known = Object.keys(config.webhooks);
    throw new PophookError(
      'WEBHOOK_UNKNOWN',
      `no webhook "${webhookId}" in the config (known: ${known.join(', ')})`,
      {
        details: { known },
      },
    );
  }
  return writeResults(await checkWebhooks([webhook]), values.json ?? false, io);
}
