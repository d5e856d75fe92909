// docker-compose.yml and the Dockerfile keep their promises: compose accepts the file (with and without the
// demo profile), Redis runs with AOF and noeviction on a named volume, every long-running service has a
// healthcheck, the image runs as a non-root user with production dependencies only, the config is mounted
// read-only where `--config` looks, workers are replicated, secrets are docker secrets. The image can't be
// built here (no engine), so its HEALTHCHECK program is run natively against a local /healthz.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ComposeFile, ComposeServiceSpec } from '../../helpers/compose-mirror.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const COMPOSE_FILE = resolve(ROOT, 'docker-compose.yml');
const compose = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as ComposeFile;
const services = compose.services;
const POPHOOK_SERVICES = ['scheduler', 'worker'];
const CONFIG_PATH = '/etc/pophook/pophook.yml';

/** Instructions of each Dockerfile stage, continuation lines joined. */
function dockerStages(text: string): Map<string, { from: string; lines: string[] }> {
  const stages = new Map<string, { from: string; lines: string[] }>();
  let current: string[] = [];
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      current = [];
      stages.set(from[2] ?? `stage${stages.size}`, { from: from[1] ?? '', lines: current });
    } else if (line.trim() && !line.startsWith('#')) current.push(line.trim());
  }
  return stages;
}

/** A stage's instructions with those of the stages it builds on, base first. */
function stageChain(
  stages: ReturnType<typeof dockerStages>,
  name: string,
): { base: string; lines: string[] } {
  const stage = stages.get(name);
  if (!stage) throw new Error(`no Dockerfile stage ${name}`);
  if (!stages.has(stage.from)) return { base: stage.from, lines: stage.lines };
  const parent = stageChain(stages, stage.from);
  return { base: parent.base, lines: [...parent.lines, ...stage.lines] };
}

const stages = dockerStages(readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8'));

function service(name: string): ComposeServiceSpec {
  const spec = services[name];
  if (!spec) throw new Error(`no compose service ${name}`);
  return spec;
}

function seconds(duration: unknown): number {
  const match = /^(\d+)(s|m)$/.exec(String(duration));
  return match ? Number(match[1]) * (match[2] === 'm' ? 60 : 1) : Number.NaN;
}

describe('docker-compose.yml', () => {
  it('is accepted by docker-compose config, with and without the demo profile', async () => {
    await expect(run('docker-compose', ['-f', COMPOSE_FILE, 'config', '-q'])).resolves.toBeDefined();
    await expect(
      run('docker-compose', ['-f', COMPOSE_FILE, '--profile', 'demo', 'config', '-q']),
    ).resolves.toBeDefined();
  });

  it('runs Redis with AOF, noeviction, a named volume and a ping healthcheck', () => {
    const redis = service('redis');
    expect(redis.image).toMatch(/^redis:7/);
    const command = (redis.command as string[]).join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--maxmemory-policy noeviction');
    const volume = (redis.volumes as string[]).find((v) => v.endsWith(':/data'));
    expect(volume).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(volume?.split(':')[0]);
    expect((redis.healthcheck as { test: string[] }).test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('runs the scheduler once and the worker (all roles) replicated, after Redis is healthy', () => {
    expect(service('scheduler').command).toEqual(['scheduler', '--config', CONFIG_PATH]);
    expect(service('worker').command).toEqual(['worker', '--role', 'all', '--config', CONFIG_PATH]);
    expect(service('worker').deploy?.replicas).toBeGreaterThanOrEqual(2);
    for (const name of POPHOOK_SERVICES) {
      const spec = service(name);
      expect(spec.build, name).toEqual({ context: '.', target: 'runtime' });
      expect(spec.restart, name).toBe('unless-stopped');
      expect(spec.depends_on, name).toEqual({ redis: { condition: 'service_healthy' } });
      expect(spec.environment?.REDIS_URL, name).toBe('redis://redis:6379');
      // Longer than pophook's 30 s drain, or compose kills a draining process.
      expect(seconds(spec.stop_grace_period), name).toBeGreaterThan(30);
    }
  });

  it('mounts deploy/pophook.yml read-only where --config looks and passes secrets as docker secrets', () => {
    for (const name of POPHOOK_SERVICES) {
      const spec = service(name);
      expect(spec.volumes, name).toContainEqual({
        type: 'bind',
        source: './deploy/pophook.yml',
        target: CONFIG_PATH,
        read_only: true,
      });
      expect(spec.secrets, name).toEqual(['webhook_secret', 'pop3_password']);
    }
    for (const [name, secret] of Object.entries(compose.secrets ?? {})) {
      // ${VAR:-default}: the default is the demo example, which must exist for `up` on a fresh checkout.
      const fallback = /^\$\{\w+:-(.+)\}$/.exec(secret.file ?? '')?.[1];
      expect(fallback, name).toMatch(/^\.\/deploy\/secrets\/.+\.example$/);
      expect(existsSync(resolve(ROOT, fallback!)), name).toBe(true);
    }
    const config = parse(readFileSync(resolve(ROOT, 'deploy/pophook.yml'), 'utf8')) as {
      http: { port: string };
    };
    // The image's HEALTHCHECK asks POPHOOK_HTTP_PORT: the config must listen there.
    expect(String(config.http.port)).toMatch(/^\$\{POPHOOK_HTTP_PORT[:}]/);
    expect(service('worker').environment?.POPHOOK_HTTP_PORT).toBeDefined();
  });

  it('keeps the demo services in the demo profile, each with a healthcheck', () => {
    const demo = Object.entries(services).filter(([, spec]) => spec.profiles !== undefined);
    expect(demo.map(([name]) => name).sort()).toEqual(['demo-pop3', 'demo-receiver']);
    for (const [name, spec] of demo) {
      expect(spec.profiles, name).toEqual(['demo']);
      expect(spec.build?.target, name).toBe('demo');
      expect(spec.healthcheck, name).toBeDefined();
    }
  });
});

describe('Dockerfile', () => {
  const runtime = stageChain(stages, 'runtime');

  it('builds the runtime image last, from node:22-slim or newer, non-root, production dependencies only, running the bundle', () => {
    expect([...stages.keys()].at(-1)).toBe('runtime');
    const major = Number(/^node:(\d+)-slim$/.exec(runtime.base)?.[1]);
    expect(major).toBeGreaterThanOrEqual(22);
    const users = runtime.lines.filter((l) => l.startsWith('USER '));
    expect(users.at(-1)).toBe('USER node');
    // The runtime's node_modules come from a stage whose one install leaves the dev dependencies out.
    const modules = runtime.lines.find((l) => l.startsWith('COPY --from=') && l.includes('node_modules'));
    const from = stages.get(/--from=(\S+)/.exec(modules ?? '')?.[1] ?? '');
    const install = from?.lines.filter((l) => l.includes('npm ci')) ?? [];
    expect(install).toHaveLength(1);
    expect(install[0]).toContain('--omit=dev');
    // The bundle built in the builder stage; no sources, so bin/pophook.js has nothing to fall back to.
    expect(runtime.lines).toContain('COPY --from=builder /app/dist ./dist');
    expect(runtime.lines.some((l) => /^COPY (src|workers)\b/.test(l))).toBe(false);
    expect(stages.get('builder')?.lines).toContain('RUN npm run build');
    // The bin itself, so its first line's V8 flags apply (node bin/pophook.js would drop them).
    expect(runtime.lines).toContain('ENTRYPOINT ["/app/bin/pophook.js"]');
    // Nothing at run time needs a TypeScript loader.
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8'));
    expect(pkg.dependencies.tsx).toBeUndefined();
    expect(pkg.devDependencies.tsx).toBeDefined();
  });

  it('has a HEALTHCHECK program that asks /healthz on POPHOOK_HTTP_PORT and passes without it', async () => {
    const line = runtime.lines.find((l) => l.startsWith('HEALTHCHECK '));
    const exec = JSON.parse(line?.slice(line.indexOf('CMD ') + 4) ?? 'null') as string[];
    expect(exec.slice(0, 2)).toEqual(['node', '-e']);
    const check = async (env: Record<string, string>) =>
      run(process.execPath, ['-e', exec[2]!], { env: { ...process.env, ...env }, timeout: 20_000 }).then(
        () => 0,
        (error: { code?: number }) => error.code ?? -1,
      );
    let status = 200;
    const server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? status : 404).end());
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = String((server.address() as AddressInfo).port);
    try {
      expect(await check({ POPHOOK_HTTP_PORT: '' })).toBe(0);
      expect(await check({ POPHOOK_HTTP_PORT: port })).toBe(0);
      status = 503;
      expect(await check({ POPHOOK_HTTP_PORT: port })).toBe(1);
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
    expect(await check({ POPHOOK_HTTP_PORT: port })).toBe(1);
  }, 60_000);

  it('keeps secrets and everything but the sources out of the build context', () => {
    const ignore = readFileSync(resolve(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignore).toContain('*');
    expect(ignore.filter((l) => l.startsWith('!')).some((l) => l.includes('secrets'))).toBe(false);
  });
});
