// `pophook status [--json]`: one screen on the state of the deployment, read from Redis: per mailbox its
// last poll, backlog, oldest undelivered message, dead letters, lock holder and next poll; per webhook its
// recent success rate and last error; queue depths. The same snapshot /metrics and the dashboard use.
import { parseArgs } from 'node:util';
import { readSnapshot, snapshotSources } from '../ops/snapshot.ts';
import { formatStatus } from '../ops/status-text.ts';
import type { CliIo } from './io.ts';
import { loadConfigFor } from './shared.ts';

export async function runStatus(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
  });
  const { config, logger } = await loadConfigFor(argv, io, 2);
  const { createRuntime } = await import('../../workers/runtime.ts');
  const rt = await createRuntime(config, logger);
  try {
    const snapshot = await readSnapshot(snapshotSources(rt));
    io.stdout.write(values.json ? `${JSON.stringify(snapshot, null, 2)}\n` : formatStatus(snapshot));
    return 0;
  } finally {
    await rt.close();
  }
}
