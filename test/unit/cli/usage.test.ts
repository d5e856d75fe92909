// The command line as a Unix tool: for every command, an unknown option, a missing value or a stray
// argument exits 2 with a line naming the problem and that command's usage on stderr; nothing is started
// (the service runner is never called) and stdout stays empty.
import { describe, expect, it } from 'vitest';
import { cli } from '../../helpers/run-cli.ts';

const CASES: Array<[args: string[], problem: RegExp, usage: RegExp]> = [
  [['run', '--config', 'x.yml', '--bogus'], /Unknown option '--bogus'/, /Usage: pophook run/],
  [
    ['scheduler', '--config', 'x.yml', '--role', 'poll'],
    /Unknown option '--role'/,
    /Usage: pophook scheduler/,
  ],
  [
    ['worker', '--config', 'x.yml', '--role', 'chef'],
    /--role must be poll, deliver or all/,
    /Usage: pophook worker/,
  ],
  [['worker', '--config', 'x.yml', 'extra'], /Unexpected argument 'extra'/, /Usage: pophook worker/],
  [['check', '--config'], /--config <value>' argument missing/, /Usage: pophook check/],
  [['check', '--config', 'x.yml', '--verbose'], /Unknown option '--verbose'/, /Usage: pophook check/],
  [['status', '--config', 'x.yml', '--watch'], /Unknown option '--watch'/, /Usage: pophook status/],
  [['poll', 'inbox', '--config', 'x.yml'], /pass --once/, /Usage: pophook poll/],
  [['poll', 'a', 'b', '--once', '--config', 'x.yml'], /exactly one MAILBOX/, /Usage: pophook poll/],
  [
    ['poll', 'inbox', '--once', '--config', 'x.yml', '--dry'],
    /Unknown option '--dry'/,
    /Usage: pophook poll/,
  ],
  [['poll', '--dry-run', 'a', 'b', '--config', 'x.yml'], /at most one MAILBOX/, /Usage: pophook poll/],
  [
    ['poll', 'a', '--dry-run', '--once', '--config', 'x.yml'],
    /--once or --dry-run, not both/,
    /Usage: pophook poll/,
  ],
  [['dlq', 'purge', '--config', 'x.yml'], /"list", "show" or "replay"/, /Usage: pophook dlq/],
  [['dlq', 'show', '--config', 'x.yml'], /show takes dead-letter ids/, /Usage: pophook dlq/],
  [
    ['dlq', 'list', '--wait', '--config', 'x.yml'],
    /--wait and --timeout belong to replay/,
    /Usage: pophook dlq/,
  ],
  [
    ['dlq', 'replay', '--all', '--timeout', '5m', '--config', 'x.yml'],
    /--timeout needs --wait/,
    /Usage: pophook dlq/,
  ],
  [
    ['dlq', 'replay', '--all', '--wait', '--timeout', 'soon', '--config', 'x.yml'],
    /--timeout takes a duration/,
    /Usage: pophook dlq/,
  ],
  [['retry', 'later', '--config', 'x.yml'], /"list" or "now"/, /Usage: pophook retry/],
  [['retry', 'now', '--config', 'x.yml'], /now takes delivery ids/, /Usage: pophook retry/],
  [['retry', 'now', 'msg_1', '--all', '--config', 'x.yml'], /not both/, /Usage: pophook retry/],
  [['retry', 'list', 'msg_1', '--config', 'x.yml'], /list takes no ids/, /Usage: pophook retry/],
  [['dlq', 'list', 'msg_1', '--config', 'x.yml'], /list takes no ids/, /Usage: pophook dlq/],
  [['dlq', 'replay', 'msg_1', '--all', '--config', 'x.yml'], /ids or --all, not both/, /Usage: pophook dlq/],
  [['dlq', 'list', '--config', 'x.yml', '-x'], /Unknown option '-x'/, /Usage: pophook dlq/],
  [['probe', '--host', 'h', '--tls', 'none', '--bogus'], /Unknown option '--bogus'/, /Usage: pophook probe/],
  [['frobnicate'], /unknown command "frobnicate"/, /Usage: pophook <command>/],
];

describe('usage errors', () => {
  it.each(CASES)('%j: exit 2, the problem named, the usage shown', async (args, problem, usage) => {
    const { code, stdout, stderr, started } = await cli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(problem);
    expect(stderr).toMatch(usage);
    expect(stdout).toBe('');
    expect(started).toBe(false);
  });

  it('--help of each command prints its usage on stdout and exits 0', async () => {
    for (const command of [
      'run',
      'scheduler',
      'worker',
      'check',
      'poll',
      'dlq',
      'retry',
      'status',
      'probe',
    ]) {
      const { code, stdout } = await cli([command, '--help']);
      expect([command, code]).toEqual([command, 0]);
      expect(stdout).toContain(`Usage: pophook ${command}`);
    }
  });
});
