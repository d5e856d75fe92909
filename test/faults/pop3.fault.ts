// POP3 faults, made by the proxy between pophook and Dovecot: connections cut in the middle of a RETR
// (after its +OK) and of a DELE (the server did it, the reply never arrives); the server answering
// [IN-USE] and [SYS/TEMP] to the login (the proxy rewrites Dovecot's +OK to PASS, RFC 2449 §8, RFC 3206);
// the server not reachable at all (connections refused).
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { accepted, runScenario, until } from './lib/scenario.ts';

it('pop3-cut: connections cut mid-RETR and mid-DELE for 20 s', async () => {
  const { world } = await runScenario({ name: 'pop3-cut', mailboxes: 4 }, async (world) => {
    let cuts = 0;
    world.onPop3((event) => {
      if (event.kind !== 'reply' || !event.ok || world.random() > 0.3) return 'pass';
      if (event.verb === 'RETR') {
        cuts += 1;
        return 'cut-after'; // +OK went through, the body never comes
      }
      if (event.verb === 'DELE') {
        cuts += 1;
        return 'cut-before'; // the server marked it deleted; the reply never comes, nor the QUIT
      }
      return 'pass';
    });
    await world.addMail(150);
    await sleep(20_000);
    world.onPop3(() => 'pass');
    world.faults += cuts;
  });
  expect(world.faults).toBeGreaterThan(0);
});

it('pop3-in-use-sys-temp: the login answered [IN-USE] or [SYS/TEMP] for 10 s', async () => {
  const { world } = await runScenario({ name: 'pop3-in-use-sys-temp', mailboxes: 3 }, async (world) => {
    let refusals = 0;
    world.onPop3((event) => {
      if (event.kind !== 'reply' || event.verb !== 'PASS' || !event.ok) return 'pass';
      refusals += 1;
      return { replace: world.random() < 0.5 ? '-ERR [IN-USE] mailbox locked' : '-ERR [SYS/TEMP] try later' };
    });
    await world.addMail(60);
    await sleep(10_000);
    expect(accepted(world)).toBe(0);
    world.onPop3(() => 'pass');
    world.faults += refusals;
  });
  expect(world.faults).toBeGreaterThan(0);
});

it('pop3-unreachable: connections refused for 10 s, mid-flow', async () => {
  await runScenario({ name: 'pop3-unreachable', mailboxes: 3 }, async (world) => {
    await world.addMail(100);
    await until('deliveries under way', () => accepted(world) >= 10, 60_000);
    await world.proxy.setMode('down');
    world.faults += 1;
    await world.addMail(30);
    await sleep(10_000);
    await world.proxy.setMode('pass');
  });
});
