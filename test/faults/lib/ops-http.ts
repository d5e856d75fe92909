// A fleet process's ops HTTP endpoint, as the scenarios with an `http` section ask it: its port (from its
// log) and its /readyz verdict with the failing checks.
import type { LogLine } from '../../helpers/pophook-process.ts';

export function httpPort(logs: readonly LogLine[]): number {
  const line = logs.find((l) => l.msg === 'ops http listening');
  if (typeof line?.port !== 'number') throw new Error('the process has no ops http port');
  return line.port;
}

export async function readyz(port: number): Promise<{ status: number; failing: string[] }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { checks: Array<{ name: string; ok: boolean }> };
  return { status: response.status, failing: body.checks.filter((c) => !c.ok).map((c) => c.name) };
}
