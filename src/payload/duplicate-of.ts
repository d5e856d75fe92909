// `duplicateOf` added to a payload already serialised (dedupe.mode: mark). The decision comes after the
// parse, so the member is appended to the JSON object rather than built in: its last byte is the closing
// `}`, and RFC 8259 §4 leaves an object's members unordered (spool-payload.ts relies on the same).
import { open } from 'node:fs/promises';
import type { DuplicateOf } from './types.ts';

const CLOSE = 0x7d; // '}'

const member = (of: DuplicateOf): Buffer =>
  Buffer.from(`,"duplicateOf":${JSON.stringify({ id: of.id, mailbox: of.mailbox, uidl: of.uidl })}}`);

/** A new body: `body` with the member appended. */
export function withDuplicateOf(body: Buffer, of: DuplicateOf): Buffer {
  if (body.at(-1) !== CLOSE) throw new Error('a payload body ends with }');
  return Buffer.concat([body.subarray(0, -1), member(of)]);
}

/** The spool file of `bytes` bytes with the member appended in place; returns its new size. */
export async function appendDuplicateOf(path: string, bytes: number, of: DuplicateOf): Promise<number> {
  const file = await open(path, 'r+');
  try {
    const last = Buffer.alloc(1);
    await file.read(last, 0, 1, bytes - 1);
    if (last[0] !== CLOSE) throw new Error('a payload spool ends with }');
    const tail = member(of);
    await file.write(tail, 0, tail.length, bytes - 1);
    return bytes - 1 + tail.length;
  } finally {
    await file.close();
  }
}
