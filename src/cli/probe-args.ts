// Command-line parsing of `pophook probe`: its options, help text and checks (exit code 2 on a mistake).
import {
  AUTH_METHODS,
  type AuthMethod,
  defaultPort,
  isTokenAuth,
  TLS_MODES,
  type TlsMode,
} from '../pop3/types.ts';
import { parseCommandLine, UsageError } from './args.ts';

export const PROBE_HELP = `Usage: pophook probe --host H [--port P] --tls implicit|starttls|none [options]

Connects to one POP3 server and prints its greeting, TLS session and certificate,
capabilities and SASL mechanisms; with --user also logs in and prints the message
count, total size and the first 10 UIDLs. Ends with QUIT; never deletes anything.

Options:
  --host H                 server name or address (required)
  --port P                 optional: default 995 with --tls implicit, 110 otherwise
  --tls MODE               implicit | starttls | none (required)
  --user U                 log in as U; the password comes from POPHOOK_PASSWORD or,
                           on a terminal, a prompt (not echoed)
  --auth METHOD            auto (default) | user | apop | plain | login | cram-md5 |
                           scram-sha-1 | scram-sha-256 | xoauth2 | oauthbearer; the OAuth
                           methods take an access token from POPHOOK_ACCESS_TOKEN (or the
                           prompt) instead of a password
  --credential ID          log in as --user with an OAuth 2.0 token of credential ID
                           from --config (then --auth is xoauth2, default, or oauthbearer)
  --config FILE            the pophook.yml that defines --credential
  --allow-plaintext-auth   with --tls none, allow the password to travel unencrypted
  --ca FILE                extra trusted CA certificates (PEM)
  --servername N           TLS server name (SNI and certificate check), default --host
  --timeout SECONDS        for connecting, the greeting and each reply (default 15)
  --insecure               do not verify the certificate (DANGEROUS: for diagnosis only)
  --json                   one JSON object on stdout instead of text
  --help                   this text

Exit status: 0 probed, 1 connection, TLS or login failed (or --user without a password or token,
so the login was skipped), 2 bad arguments.
`;

/** A --credential login takes an OAuth method; otherwise any method (OAuth ones read POPHOOK_ACCESS_TOKEN). */
const TOKEN_AUTH_METHODS: readonly AuthMethod[] = AUTH_METHODS.filter(isTokenAuth);
const DEFAULT_TIMEOUT_SECONDS = 15;

export interface ProbeArgs {
  host: string;
  port: number;
  tls: TlsMode;
  user?: string;
  /** Log in with a token of this credential of that config file instead of a password. */
  credential?: { configPath: string; id: string };
  auth: AuthMethod;
  allowPlaintextAuth: boolean;
  caFile?: string;
  servername?: string;
  insecure: boolean;
  json: boolean;
  timeoutMs: number;
}

export function parseProbeArgs(argv: string[]): ProbeArgs | 'help' {
  const v = parseCommandLine('probe', argv, PROBE_OPTIONS).values;
  if (v.help) return 'help';
  if (!v.host) throw new UsageError('--host is required', 'probe');
  if (!v.tls) throw new UsageError('--tls is required (implicit, starttls or none)', 'probe');
  const tls = v.tls as TlsMode;
  if (!TLS_MODES.includes(tls))
    throw new UsageError(`--tls must be implicit, starttls or none (got "${v.tls}")`, 'probe');
  const credential = tokenLogin(v);
  const auth = (v.auth ?? (credential ? 'xoauth2' : 'auto')) as AuthMethod;
  const allowed = credential ? TOKEN_AUTH_METHODS : AUTH_METHODS;
  if (!allowed.includes(auth)) throw new UsageError(`--auth must be one of ${allowed.join(', ')}`, 'probe');
  const port = v.port === undefined ? defaultPort(tls) : Number(v.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--port must be a number between 1 and 65535 (got "${v.port}")`, 'probe');
  }
  const timeoutSeconds = Number(v.timeout ?? DEFAULT_TIMEOUT_SECONDS);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 3600) {
    throw new UsageError(
      `--timeout must be a number of seconds between 0 and 3600 (got "${v.timeout}")`,
      'probe',
    );
  }
  if (v['allow-plaintext-auth'] && tls !== 'none') {
    throw new UsageError('--allow-plaintext-auth only makes sense with --tls none', 'probe');
  }
  return {
    host: v.host,
    port,
    tls,
    auth,
    allowPlaintextAuth: v['allow-plaintext-auth'] ?? false,
    insecure: v.insecure ?? false,
    json: v.json ?? false,
    timeoutMs: Math.round(timeoutSeconds * 1000),
    ...(v.user ? { user: v.user } : {}),
    ...(credential ? { credential } : {}),
    ...(v.ca ? { caFile: v.ca } : {}),
    ...(v.servername ? { servername: v.servername } : {}),
  };
}

/** --credential ID with --config FILE and --user, or neither. */
function tokenLogin(v: { credential?: string; config?: string; user?: string }) {
  if (v.credential === undefined) {
    if (v.config !== undefined) throw new UsageError('--config is only used with --credential', 'probe');
    return undefined;
  }
  if (v.config === undefined || v.user === undefined) {
    throw new UsageError('--credential needs --config (where it is defined) and --user', 'probe');
  }
  return { configPath: v.config, id: v.credential };
}

const PROBE_OPTIONS = {
  host: { type: 'string' },
  credential: { type: 'string' },
  config: { type: 'string', short: 'c' },
  port: { type: 'string' },
  tls: { type: 'string' },
  user: { type: 'string' },
  auth: { type: 'string' },
  'allow-plaintext-auth': { type: 'boolean' },
  ca: { type: 'string' },
  servername: { type: 'string' },
  insecure: { type: 'boolean' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;
