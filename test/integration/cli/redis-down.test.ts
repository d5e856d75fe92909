// One-shot commands with Redis down (nothing listens on its port): `status`, `dlq list` and `check` say so
// in one line naming the masked URL, exit 1 within seconds, and print no trace, no per-attempt warnings.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { idleConfig, startPophook } from '../../helpers/pophook-process.ts';
import { freePort } from '../../helpers/ports.ts';

const REDIS_PASSWORD = 'redis-pass-zq91';
let dir: string;
let config: string;
let port: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pophook-redis-down-'));
  port = await freePort();
  config = join(dir, 'pophook.yml');
  await writeFile(
    config,
    stringify(idleConfig(`redis://default:${REDIS_PASSWORD}@127.0.0.1:${port}`, 'down')),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Redis down for one-shot commands', () => {
  for (const command of [['status'], ['dlq', 'list']]) {
    it(`${command.join(' ')}: one line with REDIS_UNAVAILABLE and the masked URL, exit 1`, async () => {
      const started = Date.now();
      const pophook = startPophook([...command, '--config', config]);
      expect(await pophook.exited).toBe(1);
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(pophook.logs).toEqual([]);
      expect(pophook.text).toHaveLength(1);
      expect(pophook.text[0]).toContain('REDIS_UNAVAILABLE');
      expect(pophook.text[0]).toContain(`127.0.0.1:${port}`);
      expect(pophook.text[0]).not.toContain(REDIS_PASSWORD);
    });
  }

  it('check: the redis line fails, nothing else about Redis is printed, exit 1', async () => {
    const pophook = startPophook(['check', '--config', config]);
    expect(await pophook.exited).toBe(1);
    const redisLines = pophook.text.filter((line) => /redis/i.test(line));
    expect(redisLines).toHaveLength(1);
    expect(redisLines[0]).toMatch(/^FAIL/);
    expect(pophook.text.some((line) => /^\s+at /.test(line))).toBe(false);
    expect(pophook.logs.filter((l) => l.level >= 40)).toEqual([]);
  });
});
