// A compose-like pophook fleet: separate `pophook scheduler`, `pophook worker --role poll` and
// `pophook worker --role deliver` processes on one config, each under a supervisor that restarts it after
// an unexpected exit (docker's `restart: always`), which is the only help the suite gives after a fault.
import { setTimeout as sleep } from 'node:timers/promises';
import { type LogLine, type PophookProcess, startPophook } from '../../helpers/pophook-process.ts';

export type FleetRole = 'scheduler' | 'poll' | 'deliver';

const ARGS: Record<FleetRole, string[]> = {
  scheduler: ['scheduler'],
  poll: ['worker', '--role', 'poll'],
  deliver: ['worker', '--role', 'deliver'],
};

/** How long the supervisor waits before starting a process again (compose restarts within ~100 ms). */
const RESTART_DELAY_MS = 250;

export interface FleetMember {
  readonly role: FleetRole;
  /** The process running now. */
  current: PophookProcess;
  /** Every process this member ran, oldest first (their logs stay readable). */
  readonly generations: PophookProcess[];
  restarts: number;
}

export interface Fleet {
  readonly members: FleetMember[];
  /** kill -9 the current process of every member with this role; the supervisor restarts it. */
  kill(role: FleetRole): number;
  /** Every log line of every process so far. */
  logs(): LogLine[];
  /** Waits until each member's current process logged 'pophook started'. */
  ready(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export function startFleet(
  configPath: string,
  roles: Record<FleetRole, number>,
  env: NodeJS.ProcessEnv = {},
): Fleet {
  let stopping = false;
  const members: FleetMember[] = [];
  const launch = (member: FleetMember) => {
    const child = startPophook([...ARGS[member.role], '--config', configPath], env);
    member.current = child;
    member.generations.push(child);
    void child.exited.then(async (code) => {
      if (stopping) return;
      // Restarts beyond the scenario's kills are exits of pophook's own (the watchdog's exit 1, a crash):
      // say which, with the last warnings, so a figure like "17 restarts, 16 kills" can be explained.
      if (child.child.signalCode !== 'SIGKILL') {
        const last = child.logs
          .filter((l) => l.level >= 40)
          .slice(-5)
          .map((l) => l.msg);
        process.stderr.write(
          `fleet: ${member.role} exited by itself (code ${code}, signal ${child.child.signalCode}); last warnings: ` +
            `${JSON.stringify(last)}; other output: ${JSON.stringify(child.text.slice(-5))}\n`,
        );
      }
      await sleep(RESTART_DELAY_MS);
      if (stopping) return;
      member.restarts += 1;
      launch(member);
    });
  };
  for (const role of ['scheduler', 'poll', 'deliver'] as const) {
    for (let i = 0; i < roles[role]; i++) {
      const member = { role, generations: [], restarts: 0 } as unknown as FleetMember;
      members.push(member);
      launch(member);
    }
  }
  return {
    members,
    kill(role) {
      let killed = 0;
      for (const member of members) {
        const { child } = member.current;
        if (member.role !== role || child.exitCode !== null || child.signalCode !== null) continue;
        child.kill('SIGKILL');
        killed += 1;
      }
      return killed;
    },
    logs: () => members.flatMap((m) => m.generations.flatMap((g) => g.logs)),
    async ready(timeoutMs = 30_000) {
      await Promise.all(
        members.map((m) => m.current.waitForLog((l) => l.msg === 'pophook started', timeoutMs)),
      );
    },
    async stop() {
      stopping = true;
      await Promise.all(members.map((m) => m.current.stop('SIGKILL')));
    },
  };
}
