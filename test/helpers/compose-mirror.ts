// The compose mirror: reads docker-compose.yml as compose itself resolves it (`docker-compose config`:
// anchors merged, variables substituted, paths absolute) and runs its pophook services as native processes
// with the same command and the same environment, so a test proves the fleet without a container engine.
// Only what must differ on one host is substituted: the config file named by `--config` (the file compose
// mounts there, with its endpoints moved to the test's servers, its docker-secret paths to files holding
// the test's secrets, and its HTTP port to 0, since all processes share one network) and REDIS_URL.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { type PophookProcess, startPophook } from './pophook-process.ts';

const run = promisify(execFile);

/** Where compose mounts docker secrets in a container (`secrets:` of a service). */
const SECRETS_DIR = '/run/secrets/';

export interface ComposeFile {
  services: Record<string, ComposeServiceSpec>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string }>;
}

/** The part of a resolved service the mirror reads (docker-compose config output). */
export interface ComposeServiceSpec {
  image?: string;
  build?: { context: string; target?: string };
  command?: string[];
  environment?: Record<string, string | number | null>;
  volumes?: Array<string | { type: string; source?: string; target: string; read_only?: boolean }>;
  secrets?: Array<string | { source: string }>;
  deploy?: { replicas?: number };
  [key: string]: unknown;
}

export interface PophookService {
  name: string;
  command: string[];
  environment: Record<string, string>;
  replicas: number;
  secrets: string[];
  /** The `--config` path inside the container and the host file compose mounts there, read-only. */
  config: { target: string; source: string };
}

/** `docker-compose -f FILE [--profile P] config`, parsed. */
export async function resolveCompose(file: string, profiles: string[] = []): Promise<ComposeFile> {
  const args = ['-f', file, ...profiles.flatMap((p) => ['--profile', p]), 'config'];
  const { stdout } = await run('docker-compose', args, { timeout: 20_000 });
  return parse(stdout) as ComposeFile;
}

/** The services that run the pophook image (built from the Dockerfile's `runtime` target). */
export function pophookServices(compose: ComposeFile): PophookService[] {
  return Object.entries(compose.services)
    .filter(([, spec]) => spec.build?.target === 'runtime')
    .map(([name, spec]) => {
      const command = spec.command ?? [];
      const target = configArg(command);
      if (!target) throw new Error(`compose service ${name}: no --config in its command`);
      return {
        name,
        command,
        environment: Object.fromEntries(
          Object.entries(spec.environment ?? {}).map(([key, value]) => [key, String(value ?? '')]),
        ),
        replicas: spec.deploy?.replicas ?? 1,
        secrets: (spec.secrets ?? []).map((s) => (typeof s === 'string' ? s : s.source)),
        config: { target, source: mountedFile(name, spec, target) },
      };
    });
}

function configArg(command: string[]): string | undefined {
  const at = command.findIndex((arg) => arg === '--config' || arg === '-c');
  if (at !== -1) return command[at + 1];
  return command.find((arg) => arg.startsWith('--config='))?.slice('--config='.length);
}

/** The host file bind-mounted read-only at `target`; a config that is not mounted so is an error. */
function mountedFile(name: string, spec: ComposeServiceSpec, target: string): string {
  for (const volume of spec.volumes ?? []) {
    if (typeof volume === 'string') {
      const [source, at, mode] = volume.split(':');
      if (at === target && source && mode?.split(',').includes('ro')) return source;
    } else if (volume.target === target && volume.type === 'bind' && volume.read_only && volume.source) {
      return volume.source;
    }
  }
  throw new Error(`compose service ${name}: ${target} is not a read-only bind mount`);
}

export interface MirrorConfigInput {
  /** Host path of the config compose mounts (PophookService.config.source). */
  source: string;
  dir: string;
  /** Docker secrets the services declare; the config may only read those. */
  declaredSecrets: string[];
  /** Docker secret name → the test's value, written to a file in `dir`. */
  secrets: Record<string, string>;
  prefix: string;
  /** Per mailbox id: keys replaced (host, port…). Every mailbox of the file must be listed. */
  mailboxes: Record<string, Record<string, unknown>>;
  /** Per webhook id: keys replaced (url…). Every webhook of the file must be listed. */
  webhooks: Record<string, Record<string, unknown>>;
}

/** Writes the host twin of the mounted config and returns its path. */
export async function writeMirrorConfig(input: MirrorConfigInput): Promise<string> {
  const tree = parse(await readFile(input.source, 'utf8'), { merge: true }) as Record<string, unknown>;
  const secretsDir = join(input.dir, 'secrets');
  await mkdir(secretsDir, { recursive: true });
  const withSecrets = await moveSecrets(tree, input, secretsDir);
  const config = withSecrets as Record<string, Record<string, unknown>>;
  config.redis = { ...config.redis, prefix: input.prefix };
  if (config.http) config.http = { ...config.http, port: 0 };
  config.mailboxes = patchEach('mailboxes', config.mailboxes, input.mailboxes);
  config.webhooks = patchEach('webhooks', config.webhooks, input.webhooks);
  const path = join(input.dir, 'pophook.yml');
  await writeFile(path, stringify(config));
  return path;
}

async function moveSecrets(value: unknown, input: MirrorConfigInput, secretsDir: string): Promise<unknown> {
  if (typeof value === 'string' && value.startsWith(SECRETS_DIR)) {
    const name = value.slice(SECRETS_DIR.length);
    const secret = input.secrets[name];
    if (!input.declaredSecrets.includes(name) || secret === undefined) {
      throw new Error(`config reads ${value}, but docker secret "${name}" is not declared or not given`);
    }
    const path = join(secretsDir, name);
    await writeFile(path, `${secret}\n`, { mode: 0o600 });
    return path;
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => moveSecrets(v, input, secretsDir)));
  if (value !== null && typeof value === 'object') {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await moveSecrets(v, input, secretsDir)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

function patchEach(
  section: string,
  entries: Record<string, unknown> | undefined,
  patches: Record<string, Record<string, unknown>>,
): Record<string, unknown> {
  const ids = Object.keys(entries ?? {});
  const missing = ids.filter((id) => !(id in patches));
  if (missing.length > 0) throw new Error(`${section}: no substitution for ${missing.join(', ')}`);
  return Object.fromEntries(
    ids.map((id) => [id, { ...(entries?.[id] as Record<string, unknown>), ...patches[id] }]),
  );
}

export interface MirroredProcess {
  service: string;
  replica: number;
  process: PophookProcess;
}

/** Starts every service × its replicas: the same argv (but the config path) and the same environment. */
export function startServices(
  services: PophookService[],
  host: { configPath: string; redisUrl: string },
): MirroredProcess[] {
  return services.flatMap((service) =>
    Array.from({ length: service.replicas }, (_, replica) => ({
      service: service.name,
      replica: replica + 1,
      process: startPophook(
        service.command.map((arg) => substituteConfig(arg, service.config.target, host.configPath)),
        { ...service.environment, REDIS_URL: host.redisUrl },
      ),
    })),
  );
}

function substituteConfig(arg: string, target: string, path: string): string {
  if (arg === target) return path;
  if (arg === `--config=${target}`) return `--config=${path}`;
  return arg;
}

/** The last log lines of each named process, for a failure message. */
export function describeProcesses(entries: Array<[string, PophookProcess]>, lines = 4): string {
  return entries
    .map(([name, process]) => {
      const tail = [...process.logs.slice(-lines).map((l) => JSON.stringify(l)), ...process.text.slice(-2)];
      return `${name} (exit ${process.child.exitCode}):\n  ${tail.join('\n  ')}`;
    })
    .join('\n');
}
