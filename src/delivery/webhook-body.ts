// The request body of one attempt, from what the parse thread produced: its JSON (a Buffer, or the spool
// file of a big message) with each attachment reference placeholder replaced by the uploaded object's
// reference (src/storage/). A spooled body is read from the file in pieces, twice (signature, then
// request), and never held whole.
import { open } from 'node:fs/promises';
import type { PlacedReference } from '../storage/index.ts';
import type { ReplayableBody } from '../webhook/index.ts';

const CHUNK_BYTES = 256 * 1024;

/** A byte range of the source JSON, or bytes put in its place. */
type Segment = { from: number; to: number } | Buffer;

function segmentsOf(byteLength: number, placed: readonly PlacedReference[]): Segment[] {
  const segments: Segment[] = [];
  let at = 0;
  for (const { start, end, reference } of [...placed].sort((a, b) => a.start - b.start)) {
    segments.push({ from: at, to: start }, Buffer.from(JSON.stringify(reference)));
    at = end;
  }
  segments.push({ from: at, to: byteLength });
  return segments;
}

const lengthOf = (segment: Segment) =>
  Buffer.isBuffer(segment) ? segment.length : segment.to - segment.from;

/** The one-Buffer JSON with its references in place. */
export function bufferBody(json: Buffer, placed: readonly PlacedReference[]): Buffer {
  if (placed.length === 0) return json;
  return Buffer.concat(
    segmentsOf(json.length, placed).map((s) => (Buffer.isBuffer(s) ? s : json.subarray(s.from, s.to))),
  );
}

/** The spooled JSON (`byteLength` bytes in `path`) with its references in place, read on demand. */
export function spooledBody(
  path: string,
  byteLength: number,
  placed: readonly PlacedReference[],
): ReplayableBody {
  const segments = segmentsOf(byteLength, placed);
  return {
    byteLength: segments.reduce((sum, s) => sum + lengthOf(s), 0),
    open: () => readSegments(path, segments, false),
    scan: () => readSegments(path, segments, true),
  };
}

/**
 * The segments' bytes in order. `reuse`: one buffer serves every chunk, each valid until the next is asked
 * for (signing); otherwise each chunk is new (the socket may still hold it after the write).
 */
async function* readSegments(
  path: string,
  segments: readonly Segment[],
  reuse: boolean,
): AsyncGenerator<Buffer> {
  const file = await open(path, 'r');
  try {
    const shared = reuse ? Buffer.allocUnsafe(CHUNK_BYTES) : null;
    for (const segment of segments) {
      if (Buffer.isBuffer(segment)) {
        yield segment;
        continue;
      }
      for (let position = segment.from; position < segment.to; ) {
        const length = Math.min(CHUNK_BYTES, segment.to - position);
        const buffer = shared ?? Buffer.allocUnsafe(length);
        const { bytesRead } = await file.read(buffer, 0, length, position);
        if (bytesRead === 0) throw new Error(`the spool file ${path} ended early`);
        position += bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
    }
  } finally {
    await file.close();
  }
}
