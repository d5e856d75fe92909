// `docker compose --profile demo up`, natively: the demo POP3 server and receiver run their compose
// commands under the demo image's entrypoint (`node --import tsx`), the pophook services run through the
// compose mirror, all with the secrets compose would mount by default (deploy/secrets/*.example). Host
// substitutions only: ports (110 and 8080 are taken or privileged here), the mounted mail folder and
// secret paths, the config file and REDIS_URL. The seed mail and generated mail reach the receiver,
// signatures verify, and the server deletes what was delivered.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMailDir } from '../../../deploy/demo/pop3-server.ts';
import { verifyStandardWebhook } from '../../../deploy/demo/receiver.ts';
import { signatureHeader } from '../../../src/webhook/sign.ts';
import {
  type ComposeFile,
  type ComposeServiceSpec,
  describeProcesses,
  type MirroredProcess,
  pophookServices,
  resolveCompose,
  startServices,
  writeMirrorConfig,
} from '../../helpers/compose-mirror.ts';
import type { PophookProcess } from '../../helpers/pophook-process.ts';
import { freePort } from '../../helpers/ports.ts';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SEED_SUBJECTS = [
  'Welcome to the pophook demo',
  'Invoice 2025-11 (PDF attached)',
  'Menü der Woche ☕',
  'Re: Ticket #4711 - printer offline',
];

// About 11 s on an idle 2-core machine; the margin is for a machine busy with other suites.
const WAIT_MS = 45_000;

interface DemoProcess {
  child: ChildProcess;
  lines: string[];
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<number | null>;
}

/** A demo service's compose command under the demo image's ENTRYPOINT, from the repository root. */
function startDemoService(spec: ComposeServiceSpec, env: Record<string, string>): DemoProcess {
  const environment = Object.fromEntries(
    Object.entries(spec.environment ?? {}).map(([k, v]) => [k, String(v ?? '')]),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', ...(spec.command ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ...environment, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n'));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    child,
    lines,
    async waitFor(pattern, timeoutMs = WAIT_MS) {
      const deadline = Date.now() + timeoutMs;
      while (!lines.some((l) => pattern.test(l))) {
        if (Date.now() > deadline || child.exitCode !== null) {
          const processes = fleet.map((p): [string, PophookProcess] => [p.service, p.process]);
          throw new Error(
            `no ${pattern} in: ${lines.slice(-10).join(' | ')}\n${describeProcesses(processes)}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

let compose: ComposeFile;
let redis: RedisServer;
let dir: string;
const demo: DemoProcess[] = [];
let fleet: MirroredProcess[] = [];

beforeAll(async () => {
  [compose, redis, dir] = await Promise.all([
    resolveCompose(join(ROOT, 'docker-compose.yml'), ['demo']),
    startRedisServer({ appendonly: true }),
    mkdtemp(join(tmpdir(), 'pophook-demo-')),
  ]);
});

afterAll(async () => {
  await Promise.all([...fleet.map((p) => p.process.stop('SIGKILL')), ...demo.map((d) => d.stop())]);
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the compose demo profile', () => {
  it('delivers the seed mail and generated mail, verified, and deletes it from the demo server', async () => {
    const secretFile = (name: string) => compose.secrets?.[name]?.file ?? '';
    const secrets = {
      webhook_secret: (await readFile(secretFile('webhook_secret'), 'utf8')).trim(),
      pop3_password: (await readFile(secretFile('pop3_password'), 'utf8')).trim(),
    };
    const pop3Spec = compose.services['demo-pop3']!;
    const mailMount = pop3Spec.volumes?.find((v) => typeof v !== 'string' && v.target === '/demo-mail');
    const [pop3Port, receiverPort] = [await freePort(), await freePort()];
    const pop3 = startDemoService(pop3Spec, {
      DEMO_POP3_PORT: String(pop3Port),
      DEMO_MAIL_DIR: typeof mailMount === 'object' ? (mailMount.source ?? '') : '',
      DEMO_PASSWORD_FILE: secretFile('pop3_password'),
      DEMO_NEW_MAIL_EVERY: '2',
    });
    const receiver = startDemoService(compose.services['demo-receiver']!, {
      DEMO_RECEIVER_PORT: String(receiverPort),
      WEBHOOK_SECRET_FILE: secretFile('webhook_secret'),
    });
    demo.push(pop3, receiver);
    await Promise.all([pop3.waitFor(/^demo POP3: port \d+, 4 messages/), receiver.waitFor(/listening/)]);

    const services = pophookServices(compose);
    const configPath = await writeMirrorConfig({
      source: services[0]!.config.source,
      dir,
      declaredSecrets: services[0]!.secrets,
      secrets,
      prefix: `demo${randomBytes(4).toString('hex')}`,
      mailboxes: { demo: { host: '127.0.0.1', port: pop3Port } },
      webhooks: { demo: { url: `http://127.0.0.1:${receiverPort}/webhook` } },
    });
    fleet = startServices(services, { configPath, redisUrl: redis.url });

    for (const subject of [...SEED_SUBJECTS, 'Demo message #1']) {
      await receiver.waitFor(
        new RegExp(`^delivered msg_\\w+ .*subject=${escapeRegExp(JSON.stringify(subject))}`),
      );
    }
    await pop3.waitFor(/^\d+ deleted; /);
    expect(receiver.lines.filter((l) => l.startsWith('rejected'))).toEqual([]);
    const deliveredLines = receiver.lines.filter((l) => l.startsWith('delivered '));
    const ids = deliveredLines.map((l) => l.split(' ')[1]);
    expect(new Set(ids).size).toBe(ids.length);

    const codes = await Promise.all(fleet.map((p) => p.process.stop('SIGTERM')));
    expect(codes).toEqual(fleet.map(() => 0));
    expect(await Promise.all(demo.map((d) => d.stop()))).toEqual([0, 0]);
  }, 60_000);

  it("the demo receiver's verification accepts pophook's signatures, and only for the exact body, a recent time, the right key", () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const other = `whsec_${randomBytes(32).toString('base64')}`;
    const body = Buffer.from('{"id":"msg_1"}');
    const now = 1_800_000_000;
    const headers = (key: string | string[], ts: number) => ({
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(ts),
      'webhook-signature': signatureHeader(key, 'msg_1', ts, body),
    });
    expect(verifyStandardWebhook(secret, headers(secret, now), body, now)).toBe(true);
    // Key rotation: one signature per key, any one of them may match.
    expect(verifyStandardWebhook(secret, headers([other, secret], now), body, now)).toBe(true);
    expect(verifyStandardWebhook(secret, headers(secret, now), Buffer.from('{"id":"msg_2"}'), now)).toBe(
      false,
    );
    expect(verifyStandardWebhook(secret, headers(secret, now - 600), body, now)).toBe(false);
    expect(verifyStandardWebhook(secret, headers(other, now), body, now)).toBe(false);
  });

  it('the demo POP3 server serves each .eml with CRLF line ends under a UIDL made from its name', async () => {
    const messages = await readMailDir(join(ROOT, 'deploy/demo/mail'));
    expect(messages.map((m) => m.uid)).toEqual([
      '01-welcome',
      '02-invoice',
      '03-newsletter',
      '04-support-reply',
    ]);
    for (const { body } of messages) {
      const text = body.toString('latin1');
      expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    }
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
