// `pophook probe` against a private Dovecot, run in-process with captured streams: implicit TLS and
// STLS, with and without a login, the hidden password prompt, a wrong password (exit 1, code shown,
// password never printed) and bad arguments (exit 2).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../workers/main.ts';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { startFakePop3Server } from '../../helpers/fake-pop3-server.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';

const USER = 'erin';
const PASSWORD = 'erin-S3cret-Pw';
const WRONG = 'Wr0ng-Passw0rd-xyz';
const MESSAGES = 12;

let server: DovecotServer;
let caFile: string;

beforeAll(async () => {
  server = await startDovecot({ users: { [USER]: PASSWORD } });
  await server.addMessages(
    USER,
    smallCorpus(MESSAGES, 5).map((m) => m.raw),
  );
  caFile = join(server.dir, 'probe-ca.pem');
  await writeFile(caFile, server.caPem);
});

afterAll(async () => {
  await server?.stop();
});

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function probe(
  args: string[],
  {
    password,
    tty = false,
    typed,
    env: extra = {},
  }: { password?: string; tty?: boolean; typed?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Outcome> {
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = new PassThrough();
  if (typed !== undefined) stdin.end(typed);
  const env = { ...extra, ...(password === undefined ? {} : { POPHOOK_PASSWORD: password }) };
  const code = await main(['probe', ...args], { stdout, stderr, env, stdin, isTTY: tty });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs the probe in a child on a pseudo-terminal and types `typed` once the prompt shows. */
async function probeOnTerminal(
  args: string[],
  typed: string,
): Promise<{ code: number | null; output: string }> {
  const driver = join(server.dir, 'probe-on-tty.mts');
  const probeModule = join(REPO, 'src/cli/probe.ts');
  await writeFile(
    driver,
    `import { runProbe } from ${JSON.stringify(probeModule)};\n` +
      'const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: {}, isTTY: true };\n' +
      'process.exitCode = await runProbe(process.argv.slice(2), io);\n',
  );
  const command = ['node', '--import', 'tsx', driver, ...args].map((word) => `'${word}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: REPO, stdio: 'pipe' });
  let output = '';
  let typedYet = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    if (!typedYet && output.includes('Password for')) {
      typedYet = true;
      child.stdin.write(`${typed}\r`);
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  try {
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, output };
  } finally {
    clearTimeout(timer);
  }
}

const implicit = (): string[] => [
  '--host',
  server.host,
  '--port',
  String(server.pop3sPort),
  '--tls',
  'implicit',
  '--ca',
  caFile,
];
const starttls = (): string[] => [
  '--host',
  server.host,
  '--port',
  String(server.pop3Port),
  '--tls',
  'starttls',
  '--ca',
  caFile,
];

describe('pophook probe against Dovecot', () => {
  it('implicit TLS without --user: greeting, verified certificate, capabilities, SASL, QUIT', async () => {
    const { code, stdout } = await probe(implicit());
    expect(code).toBe(0);
    expect(stdout).toMatch(/greeting\s+Dovecot/);
    expect(stdout).toMatch(/tls\s+TLSv1\.[23] /);
    expect(stdout).toMatch(/certificate\s+verified/);
    expect(stdout).toMatch(/issuer\s+pophook test CA/);
    expect(stdout).toMatch(/sasl\s+PLAIN LOGIN/);
    expect(stdout).toMatch(/quit\s+ok/);
    expect(stdout).not.toMatch(/^login/m);
  });

  it('STLS with --user: logs in, prints the count, total size and the first 10 UIDLs', async () => {
    const { code, stdout } = await probe([...starttls(), '--user', USER], { password: PASSWORD });
    expect(code).toBe(0);
    expect(stdout).toMatch(/server\s+127\.0\.0\.1:\d+ \(tls: starttls\)/);
    expect(stdout).toMatch(/certificate\s+verified/);
    expect(stdout).toMatch(new RegExp(`login\\s+${USER}: ok`));
    expect(stdout).toMatch(new RegExp(`messages\\s+${MESSAGES} \\(`));
    const uidlRows = stdout.match(/^.*#\d+\s+[0-9a-f]{16}\s+\d/gim) ?? [];
    expect(uidlRows).toHaveLength(10);
    expect(stdout).not.toContain(PASSWORD);
  });

  it('--json gives one machine-readable object with the mailbox summary', async () => {
    const { code, stdout } = await probe([...implicit(), '--user', USER, '--json'], { password: PASSWORD });
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({
      ok: true,
      server: { tls: 'implicit', port: server.pop3sPort },
      tls: { authorized: true },
      login: { username: USER, status: 'ok' },
      mailbox: { count: MESSAGES },
      quit: true,
    });
    expect(report.capabilities.sasl).toContain('SCRAM-SHA-256');
    expect(report.mailbox.first).toHaveLength(10);
    expect(report.mailbox.first[0]).toMatchObject({ msg: 1, uid: expect.stringMatching(/^[0-9a-f]{16}$/i) });
  });

  it('on a terminal without POPHOOK_PASSWORD, prompts without echoing the password', async () => {
    const { code, stdout, stderr } = await probe([...implicit(), '--user', USER], {
      tty: true,
      typed: `${PASSWORD}\n`,
    });
    expect(code).toBe(0);
    expect(stderr).toContain(`Password for ${USER}:`);
    expect(stdout).toMatch(new RegExp(`login\\s+${USER}: ok`));
    expect(`${stdout}${stderr}`).not.toContain(PASSWORD);
  });

  it('password-not-echoed: on a real terminal (a pty from script(1)) the prompt turns echo off', async () => {
    const { code, output } = await probeOnTerminal([...implicit(), '--user', USER], PASSWORD);
    expect(output).toContain(`Password for ${USER}:`);
    expect(output).toMatch(new RegExp(`login\\s+${USER}: ok`));
    expect(output).not.toContain(PASSWORD);
    expect(code).toBe(0);
  });

  it('without a terminal or POPHOOK_PASSWORD, skips the login with a note and exits 1', async () => {
    const { code, stdout, stderr } = await probe([...implicit(), '--user', USER]);
    expect(code).toBe(1);
    expect(stderr).toContain('POPHOOK_PASSWORD');
    expect(stdout).toMatch(new RegExp(`login\\s+${USER}: skipped`));
    expect(stdout).not.toMatch(/messages\s+\d/);
  });

  it.each(['--auth=user', '--auth=plain', '--auth=scram-sha-1'])(
    'a wrong password (%s): exit 1, POP3_AUTH_FAILED and the reply printed, the password never',
    async (auth) => {
      const { code, stdout, stderr } = await probe([...implicit(), '--user', USER, auth], {
        password: WRONG,
      });
      expect(code).toBe(1);
      expect(stderr).toContain('POP3_AUTH_FAILED');
      expect(stderr).toMatch(/server said: -ERR \[AUTH\]/);
      expect(`${stdout}${stderr}`).not.toContain(WRONG);
    },
  );

  it('an untrusted certificate: exit 1 with POP3_TLS_FAILED', async () => {
    const { code, stderr } = await probe([
      '--host',
      server.host,
      '--port',
      String(server.pop3sPort),
      '--tls',
      'implicit',
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain('POP3_TLS_FAILED');
  });

  it('--insecure connects anyway, says the certificate is not verified and warns loudly', async () => {
    const args = [
      '--host',
      server.host,
      '--port',
      String(server.pop3sPort),
      '--tls',
      'implicit',
      '--insecure',
    ];
    const { code, stdout, stderr } = await probe(args);
    expect(code).toBe(0);
    expect(stdout).toMatch(/certificate\s+NOT verified/);
    expect(stderr).toContain('WARNING');
  });

  it('tls: none with --allow-plaintext-auth logs in over plain TCP', async () => {
    const args = ['--host', server.host, '--port', String(server.pop3Port), '--tls', 'none', '--user', USER];
    const { code, stdout } = await probe([...args, '--allow-plaintext-auth', '--json'], {
      password: PASSWORD,
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, tls: null, login: { status: 'ok' } });
    const refused = await probe(args, { password: PASSWORD });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('POP3_PLAINTEXT_REFUSED');
  });

  it('a server that never greets: exit 1 with POP3_GREETING_TIMEOUT after --timeout', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const args = ['--host', '127.0.0.1', '--port', String(port), '--tls', 'none', '--timeout', '0.3'];
      const { code, stderr } = await probe(args);
      expect(code).toBe(1);
      expect(stderr).toContain('POP3_GREETING_TIMEOUT');
    } finally {
      silent.close();
    }
  });

  it('a closed port: exit 1 with POP3_CONNECT_FAILED', async () => {
    const { code, stderr } = await probe(['--host', server.host, '--port', '1', '--tls', 'none']);
    expect(code).toBe(1);
    expect(stderr).toContain('POP3_CONNECT_FAILED');
  });
});

describe('pophook probe with an access token', () => {
  const TOKEN = 'ya29.token-zq91';
  const args = (port: number, auth: string) =>
    ['--host', '127.0.0.1', '--port', String(port), '--tls', 'none', '--allow-plaintext-auth'].concat([
      '--user',
      'alice',
      '--auth',
      auth,
    ]);

  it.each(['xoauth2', 'oauthbearer'])('--auth %s logs in with POPHOOK_ACCESS_TOKEN', async (auth) => {
    const fake = await startFakePop3Server({ tokens: { alice: TOKEN } });
    try {
      const { code, stdout } = await probe(args(fake.port, auth), { env: { POPHOOK_ACCESS_TOKEN: TOKEN } });
      expect(code).toBe(0);
      expect(stdout).toMatch(/login\s+alice: ok/);
      expect(stdout).not.toContain(TOKEN);
    } finally {
      await fake.stop();
    }
  });

  it('--auth xoauth2 without POPHOOK_ACCESS_TOKEN skips the login and exits 1', async () => {
    const fake = await startFakePop3Server({ tokens: { alice: TOKEN } });
    try {
      const { code, stderr } = await probe(args(fake.port, 'xoauth2'), {
        password: 'a password is not a token',
      });
      expect(code).toBe(1);
      expect(stderr).toContain('POPHOOK_ACCESS_TOKEN');
    } finally {
      await fake.stop();
    }
  });
});

describe('pophook probe arguments', () => {
  it.each([
    [[]],
    [['--tls', 'implicit']],
    [['--host', '127.0.0.1']],
    [['--host', '127.0.0.1', '--tls', 'sometimes']],
    [['--host', '127.0.0.1', '--tls', 'implicit', '--port', '70000']],
    [['--host', '127.0.0.1', '--tls', 'implicit', '--auth', 'telepathy']],
    [['--host', '127.0.0.1', '--tls', 'implicit', '--allow-plaintext-auth']],
    [['--host', '127.0.0.1', '--tls', 'implicit', '--timeout', '0']],
    [['--host', '127.0.0.1', '--tls', 'implicit', '--bogus']],
    [['--host', '127.0.0.1', '--tls', 'implicit', 'stray-positional']],
    [['--host', '127.0.0.1', '--tls', 'implicit', '--ca', '/nonexistent/ca.pem']],
  ])('%j: exit 2 with the usage', async (args) => {
    const { code, stderr } = await probe(args);
    expect(code).toBe(2);
    expect(stderr).toContain('pophook probe');
  });

  it('--help prints the usage on stdout and exits 0: --port optional, the OAuth methods listed', async () => {
    const { code, stdout } = await probe(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: pophook probe --host H [--port P] --tls');
    expect(stdout).toMatch(/--auth METHOD[\s\S]*xoauth2/);
    expect(stdout).toContain('--insecure');
  });
});
