// `--version` on every command, and where a config-driven command finds its file: --config, then
// POPHOOK_CONFIG, then ./pophook.yml when it exists. The files here are broken on purpose, so each run
// stops at loading and names the file it read.
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../../helpers/run-cli.ts';

const broken = fileURLToPath(new URL('../../fixtures/config/broken.yml', import.meta.url));
const packageJson = fileURLToPath(new URL('../../../package.json', import.meta.url));
let dir: string;
let empty: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pophook-cwd-'));
  empty = await mkdtemp(join(tmpdir(), 'pophook-empty-'));
  await copyFile(broken, join(dir, 'pophook.yml'));
  await copyFile(broken, join(dir, 'other.yml'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(empty, { recursive: true, force: true });
});

describe('--version', () => {
  it.each([
    [['--version']],
    [['-V']],
    ...['run', 'scheduler', 'worker', 'check', 'probe', 'poll', 'dlq', 'status', 'send-test'].map((c) => [
      [c, '--version'],
    ]),
  ])('%j prints the package version and exits 0, starting nothing', async (argv) => {
    const { version } = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string };
    const { code, stdout, started } = await cli(argv);
    expect(code).toBe(0);
    expect(stdout).toBe(`pophook ${version}\n`);
    expect(started).toBe(false);
  });
});

describe('the config path', () => {
  it('./pophook.yml is used when neither --config nor POPHOOK_CONFIG is given', async () => {
    const { code, stderr } = await cli(['check'], {}, dir);
    expect(code).toBe(1);
    expect(stderr).toContain(`CONFIG_INVALID: ${join(dir, 'pophook.yml')}`);
  });

  it('POPHOOK_CONFIG wins over ./pophook.yml, and --config over both', async () => {
    const fromEnv = await cli(['check'], { POPHOOK_CONFIG: join(dir, 'other.yml') }, dir);
    expect(fromEnv.stderr).toContain(`CONFIG_INVALID: ${join(dir, 'other.yml')}`);
    const given = await cli(['check', '--config', broken], { POPHOOK_CONFIG: join(dir, 'other.yml') }, dir);
    expect(given.stderr).toContain(`CONFIG_INVALID: ${broken}`);
  });

  it('none of the three: exit 2 with a usage error that names all three', async () => {
    const { code, stderr } = await cli(['check'], {}, empty);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--config FILE.*POPHOOK_CONFIG.*pophook\.yml/);
  });
});
