// The compose demo's webhook receiver: verifies each Standard Webhooks signature, prints the payload, and
// answers 200 (401 when the signature is wrong or stale), noting repeats of a webhook-id the way a real
// receiver drops duplicates. DEMO ONLY.
//
// Verification uses node:crypto rather than the official `standardwebhooks` package, a dev dependency that
// the image (production dependencies only) does not carry; the scheme is small enough to state in full
// (https://www.standardwebhooks.com, "Verifying webhook authenticity"): HMAC-SHA256 keyed with the base64
// after `whsec_`, over `${webhook-id}.${webhook-timestamp}.${raw body}`, compared in constant time with each
// `v1,<base64>` entry of the space-separated `webhook-signature`, and a timestamp within 5 minutes.
// The integration tests check pophook's signatures with the official package.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

/** Reference libraries reject timestamps further than this from now, either way (replay protection). */
const TOLERANCE_SECONDS = 5 * 60;

export function verifyStandardWebhook(
  secret: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return false;
  const seconds = Number(timestamp);
  if (!Number.isInteger(seconds) || Math.abs(nowSeconds - seconds) > TOLERANCE_SECONDS) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
  return signatures.split(' ').some((entry) => {
    const [version, signature = ''] = entry.split(',', 2);
    const given = Buffer.from(signature, 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export interface DemoReceiverOptions {
  secret: string;
  host?: string;
  port?: number;
  print?: (line: string) => void;
}

export interface DemoReceiver {
  readonly port: number;
  stop(): Promise<void>;
}

export async function startDemoReceiver(options: DemoReceiverOptions): Promise<DemoReceiver> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const seen = new Set<string>();
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') return void res.writeHead(200).end('ok\n');
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (!verifyStandardWebhook(options.secret, req.headers, body)) {
        print(`rejected ${req.method} ${req.url}: bad or stale signature (401)`);
        return void res.writeHead(401).end();
      }
      const id = String(req.headers['webhook-id']);
      print(describe(id, body, seen.has(id)));
      seen.add(id);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 8080, options.host ?? '0.0.0.0', resolve),
  );
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One line per delivery and the payload, attachment contents shortened to their size. */
function describe(id: string, body: Buffer, repeat: boolean): string {
  const payload = JSON.parse(body.toString('utf8')) as {
    mailbox?: string;
    uidl?: string;
    subject?: string | null;
    from?: { address?: string } | null;
    attachments?: Array<{ content?: string }>;
  };
  const attachments = (payload.attachments ?? []).map((a) => ({
    ...a,
    content: `<${Buffer.byteLength(a.content ?? '', 'base64')} bytes, base64>`,
  }));
  const head = `${repeat ? 'repeat (already processed, dropped)' : 'delivered'} ${id} mailbox=${payload.mailbox} uidl=${payload.uidl} from=${payload.from?.address ?? '-'} subject=${JSON.stringify(payload.subject)}`;
  return repeat ? head : `${head}\n${JSON.stringify({ ...payload, attachments }, null, 2)}`;
}

async function main(): Promise<void> {
  const secretFile = process.env.WEBHOOK_SECRET_FILE;
  const secret = secretFile ? readFileSync(secretFile, 'utf8').trim() : (process.env.WEBHOOK_SECRET ?? '');
  if (!secret) throw new Error('set WEBHOOK_SECRET_FILE or WEBHOOK_SECRET');
  const receiver = await startDemoReceiver({ secret, port: Number(process.env.DEMO_RECEIVER_PORT ?? 8080) });
  process.stdout.write(`demo receiver: listening on port ${receiver.port}, POST /webhook\n`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void receiver.stop().then(() => process.exit(0)));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
