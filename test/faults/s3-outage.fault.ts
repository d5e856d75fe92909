// Attachments by reference while the object store goes away: s3rver stopped for 10 s mid-flow, while mail
// with attachments keeps arriving, then back on the same port. The receiver downloads every referenced
// object through its pre-signed URL when a POST comes and checks size and sha256: an object missing
// (HTTP 404) or different would mean a POST before its uploads, and is recorded as a violation. Besides
// the checks of every scenario (nothing lost, no DELE before its 2xx, one webhook-id per message).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PayloadV1 } from '../../src/payload/index.ts';
import { messageWithAttachments } from '../helpers/mail-corpus.ts';
import { referenceProblems, type S3Server, startS3Server } from '../helpers/s3-server.ts';
import { accepted, runScenario, until } from './lib/scenario.ts';

const KB = 1024;

let s3: S3Server;
beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3?.stop();
});

/** Each message: a small attachment that stays inline and one of 20-120 KB that goes by reference. */
const withAttachments = (count: number, seed: number) =>
  Array.from({ length: count }, (_, i) =>
    messageWithAttachments(
      [
        { filename: 'logo.png', contentType: 'image/png', size: 2 * KB, disposition: 'inline' },
        {
          filename: `invoice-${i}.pdf`,
          contentType: 'application/pdf',
          size: 20 * KB + ((i * 7919) % (100 * KB)),
        },
      ],
      seed * 1000 + i,
    ),
  );

it('s3-outage: the store stopped for 10 s mid-flow, then back; no POST before its uploads', async () => {
  const violations: string[] = [];
  let referenced = 0;
  await runScenario(
    {
      name: 's3-outage',
      mailboxes: 3,
      corpus: withAttachments,
      webhook: { attachments: { mode: 'reference', threshold: '16KB' } },
      storage: s3.section,
    },
    async (world) => {
      await world.receiver.setRespond(async (request) => {
        if (!request.verified) return 401;
        const payload = request.json as PayloadV1;
        const problems = await referenceProblems(payload);
        // Uploaded just before the store went away: the download fails, not the payload; ask again later.
        if (problems.includes('unreachable')) return 503;
        if (problems.length > 0) {
          violations.push(`${payload.uidl}: ${problems.join(', ')}`);
          return 500;
        }
        referenced += payload.attachments.filter((a) => a.reference).length;
        return 200;
      });
      await world.addMail(60);
      await until('deliveries under way', () => accepted(world) >= 10, 60_000);
      await s3.halt();
      world.faults += 1;
      const before = accepted(world);
      await world.addMail(30);
      await sleep(10_000);
      // A few uploads may have finished as the store stopped; nothing close to the backlog got through.
      expect(accepted(world) - before).toBeLessThan(10);
      const failed = world.fleet.logs().filter((line) => line.msg === 'attachment upload failed');
      expect(failed.length, 'uploads were tried and failed during the outage').toBeGreaterThan(0);
      expect(String(failed[0]?.err)).toContain('storage.endpoint');
      await s3.resume();
    },
  );
  expect(violations).toEqual([]);
  expect(referenced).toBeGreaterThanOrEqual(90);
}, 240_000);
