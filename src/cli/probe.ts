// `pophook probe`: looks at one POP3 server without any config: greeting, TLS session and certificate,
// CAPA (RFC 2449) and SASL mechanisms (RFC 5034), then, with --user, a login and the first UIDLs. Ends
// with QUIT and never DELEs anything. Exit codes: 0 probed, 1 the server or the network failed, 2 usage.
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { loadConfig } from '../config/index.ts';
import { isPophookError } from '../errors.ts';
import { oauthLoginStep, uncachedTokens } from '../oauth/index.ts';
import { isPop3Error } from '../pop3/errors.ts';
import { Pop3Client } from '../pop3/index.ts';
import { isTokenAuth, type Pop3ClientOptions, type TlsMode } from '../pop3/types.ts';
import type { CliIo } from './io.ts';
import { PROBE_HELP, type ProbeArgs, parseProbeArgs } from './probe-args.ts';

const FIRST_UIDLS = 10;

export async function runProbe(argv: string[], io: CliIo): Promise<number> {
  const args = parseProbeArgs(argv);
  if (args === 'help') {
    io.stdout.write(PROBE_HELP);
    return 0;
  }
  let ca: string | undefined;
  if (args.caFile) {
    try {
      ca = await readFile(args.caFile, 'utf8');
    } catch (error) {
      io.stderr.write(
        `pophook probe: cannot read --ca ${args.caFile}: ${(error as NodeJS.ErrnoException).code}\n`,
      );
      return 2;
    }
  }
  if (args.insecure) {
    io.stderr.write(
      '\n  !!! WARNING: --insecure: the server certificate is NOT verified. Anyone on the path can read\n' +
        '  !!! and change this session, password included. Use it for diagnosis only, never in a config.\n\n',
    );
  }
  const secrets: string[] = [];
  const secret = args.user && !args.credential ? await obtainSecret(args, io) : undefined;
  if (secret) secrets.push(secret);
  const report = await probe(args, ca, secret, secrets);
  // Belt and braces: no code path puts the password or token in the report, and this makes sure of it.
  const redact = (text: string): string =>
    secrets.reduce((out, known) => out.replaceAll(known, '****'), text);
  if (args.json) {
    io.stdout.write(redact(`${JSON.stringify(report, null, 2)}\n`));
  } else {
    io.stdout.write(redact(formatReport(report)));
    if (report.error) io.stderr.write(redact(formatError(report.error)));
    else if (report.login?.status === 'skipped') io.stderr.write(`login skipped: ${report.login.reason}\n`);
  }
  return report.ok ? 0 : 1;
}

/** The password, or the access token for the OAuth methods: from the environment, else a prompt. */
async function obtainSecret(args: ProbeArgs, io: CliIo): Promise<string | undefined> {
  const token = isTokenAuth(args.auth);
  const fromEnv = token ? io.env.POPHOOK_ACCESS_TOKEN : io.env.POPHOOK_PASSWORD;
  if (fromEnv) return fromEnv;
  if (!io.isTTY) return undefined;
  return promptHidden(`${token ? 'Access token' : 'Password'} for ${args.user}: `, io);
}

type RawCapable = Readable & { setRawMode?: (raw: boolean) => unknown };

/** Reads one line with terminal echo off (raw mode); Ctrl-C or Ctrl-D gives up. */
async function promptHidden(prompt: string, io: CliIo): Promise<string | undefined> {
  const stdin = io.stdin as RawCapable;
  // Echo off before the prompt shows, or a quick typist's first characters are echoed.
  stdin.setRawMode?.(true);
  io.stderr.write(prompt);
  try {
    return await new Promise<string | undefined>((resolve) => {
      let chars: string[] = [];
      const finish = (result: string | undefined): void => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
        resolve(result);
      };
      const onData = (chunk: Buffer | string): void => {
        for (const ch of chunk.toString()) {
          if (ch === '\r' || ch === '\n') {
            finish(chars.join(''));
            return;
          }
          if (ch === '\u0003' || ch === '\u0004') {
            finish(undefined);
            return;
          }
          if (ch === '\u007f' || ch === '\b') chars = chars.slice(0, -1);
          else chars.push(ch);
        }
      };
      const onEnd = (): void => finish(chars.length > 0 ? chars.join('') : undefined);
      stdin.on('data', onData);
      stdin.once('end', onEnd);
      stdin.resume();
    });
  } finally {
    stdin.setRawMode?.(false);
    io.stderr.write('\n');
  }
}

// --- the probe itself ---------------------------------------------------------------------------------

interface ProbeReport {
  ok: boolean;
  server: { host: string; port: number; tls: TlsMode; insecure: boolean };
  greeting?: string;
  tls?: Pop3Client['tlsInfo'];
  capabilities?: {
    names: string[];
    sasl: string[];
    pipelining: boolean;
    uidl: boolean;
    top: boolean;
    user: boolean;
    stls: boolean;
    utf8: boolean;
    implementation?: string;
  };
  login?: { username: string; status: 'ok' | 'skipped'; reason?: string };
  mailbox?: { count: number; size: number; first: Array<{ msg: number; uid?: string; size?: number }> };
  quit?: boolean;
  error?: { phase: string; code: string; message: string; command?: string; serverReply?: string };
}

async function probe(
  args: ProbeArgs,
  ca: string | undefined,
  secret: string | undefined,
  secrets: string[],
): Promise<ProbeReport> {
  const report: ProbeReport = {
    ok: false,
    server: { host: args.host, port: args.port, tls: args.tls, insecure: args.insecure },
  };
  let phase = 'connect';
  let client: Pop3Client | undefined;
  try {
    client = await Pop3Client.connect(clientOptions(args, ca));
    report.greeting = client.greeting;
    report.tls = client.tlsInfo;
    report.capabilities = summarizeCapabilities(client.capabilities);
    if (args.user) {
      phase = 'login';
      const accessToken =
        args.credential && (await credentialToken(args.credential, args.user, args.timeoutMs));
      if (accessToken) secrets.push(accessToken);
      report.login = await login(client, args, accessToken || secret);
      if (report.login.status === 'ok') {
        phase = 'mailbox';
        report.mailbox = await mailboxSummary(client);
      }
    }
    phase = 'quit';
    await client.quit();
    report.quit = true;
    // A login asked for and skipped did not test what was asked: a script must not read it as success.
    report.ok = report.login?.status !== 'skipped';
  } catch (error) {
    // A token login names the step that failed: token endpoint, scope, SASL exchange, mailbox permission.
    report.error = describeError(error, (args.credential && oauthLoginStep(error)) || phase);
    // Say goodbye where the session still stands (after a refused login, say); nothing was DELE'd.
    await client?.quit({ signal: AbortSignal.timeout(args.timeoutMs) }).catch(() => {});
  } finally {
    client?.close();
  }
  return report;
}

function clientOptions(args: ProbeArgs, ca: string | undefined): Pop3ClientOptions {
  return {
    host: args.host,
    port: args.port,
    tls: args.tls,
    rejectUnauthorized: !args.insecure,
    connectTimeoutMs: args.timeoutMs,
    greetingTimeoutMs: args.timeoutMs,
    commandTimeoutMs: args.timeoutMs,
    ...(ca ? { ca } : {}),
    ...(args.servername ? { servername: args.servername } : {}),
  };
}

function summarizeCapabilities(caps: Pop3Client['capabilities']): NonNullable<ProbeReport['capabilities']> {
  return {
    names: [...caps.names],
    sasl: [...caps.sasl],
    pipelining: caps.pipelining,
    uidl: caps.uidl,
    top: caps.top,
    user: caps.user,
    stls: caps.stls,
    utf8: caps.utf8,
    ...(caps.implementation ? { implementation: caps.implementation } : {}),
  };
}

/** A token of the credential for the user, straight from its token endpoint (no Redis, no cache). */
async function credentialToken(
  credential: { configPath: string; id: string },
  user: string,
  timeoutMs: number,
) {
  const config = await loadConfig(credential.configPath);
  const request = { signal: AbortSignal.timeout(timeoutMs) };
  return (await uncachedTokens(config.credentials ?? {}).token(credential.id, user, request)).accessToken;
}

async function login(
  client: Pop3Client,
  args: ProbeArgs,
  secret: string | undefined,
): Promise<NonNullable<ProbeReport['login']>> {
  const username = args.user!;
  const token = isTokenAuth(args.auth);
  if (secret === undefined) {
    const variable = token ? 'POPHOOK_ACCESS_TOKEN' : 'POPHOOK_PASSWORD';
    return {
      username,
      status: 'skipped',
      reason: `no ${token ? 'access token' : 'password'}: set ${variable} or run on a terminal`,
    };
  }
  const credential = token ? { accessToken: secret } : { password: secret };
  await client.login({
    username,
    ...credential,
    auth: args.auth,
    allowPlaintextAuth: args.allowPlaintextAuth,
  });
  return { username, status: 'ok' };
}

async function mailboxSummary(client: Pop3Client): Promise<NonNullable<ProbeReport['mailbox']>> {
  const { count, size } = await client.stat();
  const sizes = new Map((await client.list()).map((entry) => [entry.msg, entry.size]));
  const uids = client.capabilities.uidl ? await client.uidl() : [];
  const uidOf = new Map(uids.map((entry) => [entry.msg, entry.uid]));
  const first = [...sizes.keys()].slice(0, FIRST_UIDLS).map((msg) => {
    const uid = uidOf.get(msg);
    return { msg, size: sizes.get(msg)!, ...(uid === undefined ? {} : { uid }) };
  });
  return { count, size, first };
}

function describeError(error: unknown, phase: string): NonNullable<ProbeReport['error']> {
  if (isPop3Error(error)) {
    const code = error.responseCode ? `[${error.responseCode}] ` : '';
    return {
      phase,
      code: error.code,
      message: error.message,
      ...(error.command ? { command: error.command } : {}),
      ...(error.serverText !== undefined ? { serverReply: `-ERR ${code}${error.serverText}`.trimEnd() } : {}),
    };
  }
  // A PophookError (the token request, the config of --credential) keeps its own code.
  const code = isPophookError(error) ? error.code : 'PROBE_FAILED';
  return { phase, code, message: error instanceof Error ? error.message : String(error) };
}

// --- human output -------------------------------------------------------------------------------------

/** Everything but the error, which goes to stderr. */
function formatReport(report: ProbeReport): string {
  const lines: string[] = [];
  const row = (label: string, value: string): void => {
    lines.push(`${label.padEnd(14)}${value}`);
  };
  const { server } = report;
  row('server', `${server.host}:${server.port} (tls: ${server.tls})`);
  if (report.greeting !== undefined) row('greeting', report.greeting);
  if (report.tls) {
    const t = report.tls;
    row('tls', `${t.protocol} ${t.cipher}`);
    row('certificate', t.authorized ? 'verified' : `NOT verified${server.insecure ? ' (--insecure)' : ''}`);
    if (t.subject) row('  subject', t.subject);
    if (t.issuer) row('  issuer', t.issuer);
    if (t.validTo) row('  expires', t.validTo);
    if (t.fingerprint256) row('  sha256', t.fingerprint256);
  } else if (report.greeting !== undefined) {
    row('tls', 'none (plain TCP: everything travels in clear)');
  }
  if (report.capabilities) {
    row('capabilities', report.capabilities.names.join(', ') || '(CAPA not supported)');
    row('sasl', report.capabilities.sasl.join(' ') || '(none advertised)');
  }
  if (report.login) {
    const { username, status, reason } = report.login;
    row('login', status === 'ok' ? `${username}: ok` : `${username}: skipped (${reason})`);
  }
  if (report.mailbox) formatMailbox(report.mailbox, row);
  if (report.quit) row('quit', 'ok');
  return `${lines.join('\n')}\n`;
}

function formatError(e: NonNullable<ProbeReport['error']>): string {
  const lines = [`error ${e.code} during ${e.phase}: ${e.message}`];
  if (e.command) lines.push(`  command: ${e.command}`);
  if (e.serverReply) lines.push(`  server said: ${e.serverReply}`);
  return `${lines.join('\n')}\n`;
}

function formatMailbox(
  mailbox: NonNullable<ProbeReport['mailbox']>,
  row: (l: string, v: string) => void,
): void {
  row('messages', `${mailbox.count} (${humanBytes(mailbox.size)})`);
  const width = Math.max(...mailbox.first.map((m) => (m.uid ?? '').length), 9);
  mailbox.first.forEach((m, i) => {
    row(
      i === 0 ? 'first uidls' : '',
      `#${String(m.msg).padEnd(5)} ${(m.uid ?? '(no UIDL)').padEnd(width)}  ${humanBytes(m.size ?? 0)}`,
    );
  });
}

function humanBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
