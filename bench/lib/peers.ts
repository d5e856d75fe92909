// The POP3 clients pophook is measured against, each retrieving the whole mailbox in keep mode into a
// throwaway maildir, configured from files written into a private temp dir (never ~/.mpoprc or the like):
// - mpop: `keep on`, `only_new off` (every message, every run), `delivery maildir`; it pipelines.
// - fetchmail: `keep fetchall`, no TLS, and an MDA since it has no maildir delivery of its own. The MDA is
//   `cat > DIR/$$` (one /bin/sh and one cat per message, one file per message): the cheapest way for
//   fetchmail to write a file per message; `cat > /dev/null` would skip the write the others do.
// - getmail6: SimplePOP3Retriever, `read_all`, `delete = false`, a Maildir destination. getmail refuses to
//   deliver as root, so when root its Maildir belongs to the Debian `mail` user and delivery runs as that.
// Plain TCP on Dovecot's 110 port for all (TLS would measure OpenSSL, not the clients).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChildRun, timeChild } from './measure.ts';

export type PeerName = 'mpop' | 'fetchmail' | 'getmail6';

export interface Pop3Account {
  host: string;
  port: number;
  user: string;
  password: string;
}

const PACKAGES: Record<PeerName, { binary: string; pkg: string }> = {
  mpop: { binary: 'mpop', pkg: 'mpop' },
  fetchmail: { binary: 'fetchmail', pkg: 'fetchmail' },
  getmail6: { binary: 'getmail', pkg: 'getmail6' },
};

const which = (binary: string): boolean => spawnSync('which', [binary], { stdio: 'ignore' }).status === 0;

/** The peers present, installing missing ones from Debian packages when root; notes say what is missing. */
export function ensurePeers(): { available: Set<PeerName>; notes: string[] } {
  const available = new Set<PeerName>();
  const notes: string[] = [];
  const missing = (Object.keys(PACKAGES) as PeerName[]).filter((name) => !which(PACKAGES[name].binary));
  if (missing.length > 0 && process.getuid?.() === 0) {
    const pkgs = missing.map((name) => PACKAGES[name].pkg);
    process.stdout.write(`installing ${pkgs.join(', ')} with apt-get...\n`);
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  for (const name of Object.keys(PACKAGES) as PeerName[]) {
    if (which(PACKAGES[name].binary)) available.add(name);
    else notes.push(`${name}: not installed (apt-get install ${PACKAGES[name].pkg} as root), skipped`);
  }
  return { available, notes };
}

export interface PeerRun extends ChildRun {
  /** Files the peer delivered (checked against the mailbox size). */
  delivered: number;
}

export interface PeerOptions {
  /** fetchmail only: this MDA instead of a file per message. */
  mda?: string;
  /** fetchmail only: false deletes what was delivered (the default keeps everything). */
  keep?: boolean;
}

/** One full retrieval by `peer` into a fresh maildir; the temp dir is removed afterwards. */
export async function runPeer(
  peer: PeerName,
  account: Pop3Account,
  options: PeerOptions = {},
): Promise<PeerRun> {
  const dir = await mkdtemp(join(tmpdir(), `pophook-bench-${peer}-`));
  try {
    const maildir = join(dir, 'Maildir');
    for (const sub of ['new', 'cur', 'tmp']) await mkdir(join(maildir, sub), { recursive: true });
    const { command, args } = await writePeerConfig(peer, dir, maildir, account, options);
    const run = await timeChild(command, args, { env: { HOME: dir } });
    const delivered =
      (await readdir(join(maildir, 'new'))).length + (await readdir(join(maildir, 'cur'))).length;
    return { ...run, delivered };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writePeerConfig(
  peer: PeerName,
  dir: string,
  maildir: string,
  a: Pop3Account,
  options: PeerOptions,
): Promise<{ command: string; args: string[] }> {
  if (peer === 'mpop') {
    const rc = join(dir, 'mpoprc');
    await writeFile(
      rc,
      [
        'account bench',
        `host ${a.host}`,
        `port ${a.port}`,
        'tls off',
        'auth user',
        `user ${a.user}`,
        `password ${a.password}`,
        'keep on',
        'only_new off',
        `uidls_file ${join(dir, 'uidls')}`,
        `delivery maildir ${maildir}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    return { command: 'mpop', args: ['--quiet', '-C', rc, 'bench'] };
  }
  if (peer === 'fetchmail') {
    const rc = join(dir, 'fetchmailrc');
    const deliver = options.mda ?? `cat > ${join(maildir, 'new')}/$$`;
    const keep = options.keep === false ? 'no keep' : 'keep';
    await writeFile(
      rc,
      [
        'set no syslog',
        `poll ${a.host} protocol pop3 port ${a.port} auth password`,
        `  user "${a.user}" password "${a.password}"`,
        `  ${keep} fetchall no rewrite sslproto '' mda "${deliver}"`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const args = ['--silent', '--nodetach', '-f', rc, '--pidfile', join(dir, 'pid'), '-i', join(dir, 'ids')];
    return { command: 'fetchmail', args };
  }
  if (process.getuid?.() === 0) {
    await chmod(dir, 0o755); // the mail user must reach the Maildir
    chownTree(maildir, 'mail');
  }
  const rc = join(dir, 'getmailrc');
  await writeFile(
    rc,
    [
      '[retriever]',
      'type = SimplePOP3Retriever',
      `server = ${a.host}`,
      `port = ${a.port}`,
      `username = ${a.user}`,
      `password = ${a.password}`,
      '[destination]',
      'type = Maildir',
      `path = ${maildir}/`,
      ...(process.getuid?.() === 0 ? ['user = mail'] : []),
      '[options]',
      'read_all = true',
      'delete = false',
      'verbose = 0',
      'message_log_syslog = false',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return { command: 'getmail', args: ['--getmaildir', dir, '--rcfile', rc] };
}

function chownTree(path: string, user: string): void {
  execFileSync('chown', ['-R', `${user}:`, path]);
}
