// `pophook status [--json]`: one screen on the state of the deployment, read from Redis: per mailbox its
// last poll, backlog, oldest undelivered message, dead letters, lock holder and next poll; per webhook its
// recent success rate and last error; queue depths. The same snapshot /metrics and the dashboard use.
import { readSnapshot, snapshotSources } from '../ops/snapshot.ts';
import { formatStatus } from '../ops/status-text.ts';
import { createRuntime } from '../runtime/runtime.ts';
import { CONFIG_OPTION, parseCommandLine } from './args.ts';
import type { CliIo } from './io.ts';
import { loadConfigFor } from './shared.ts';

export async function runStatus(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandLine('status', argv, { ...CONFIG_OPTION, json: { type: 'boolean' } });
  const { config, logger } = await loadConfigFor('status', values.config, io, 2);
  const rt = await createRuntime(config, logger);
  try {
    const snapshot = await readSnapshot(snapshotSources(rt));
    io.stdout.write(values.json ? `${JSON.stringify(snapshot, null, 2)}\n` : formatStatus(snapshot));
    return 0;
  } finally {
    await rt.close();
  }
}
