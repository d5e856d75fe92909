// The body of a ParserPool thread (loaded through thread-entry.mjs): builds one payload per request,
// serializes it here so the main thread only receives bytes, and answers with the JSON body transferred
// rather than copied, or, for a big message, streams the JSON into the spool file the request names.
// Errors travel as plain data; the pool rebuilds them as PophookErrors.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { isPophookError } from '../errors.ts';
import { collectGarbage } from '../gc.ts';
import { References } from './attachment-policy.ts';
import { buildPayload } from './build-payload.ts';
import { spoolPayload } from './spool-payload.ts';
import {
  factsOf,
  type ParseRequest,
  serializePayload,
  summarize,
  type ThreadData,
  type ThreadMessage,
} from './thread-protocol.ts';

const port = parentPort;
if (port === null) throw new Error('parse-thread.ts runs only as a worker thread');
const { limits, payloadOptions } = workerData as ThreadData;

// The pool hands over several requests at a time (PIPELINE_DEPTH); they are answered one after another,
// in order, since the pool times each from the answer before it.
const waiting: ParseRequest[] = [];
let working = false;
port.on('message', (request: ParseRequest) => {
  waiting.push(request);
  if (!working) void work(port);
});
port.postMessage({ type: 'ready' } satisfies ThreadMessage);

async function work(to: MessagePort): Promise<void> {
  working = true;
  for (let request = waiting.shift(); request !== undefined; request = waiting.shift()) {
    const { message, transfer } = await answer(request);
    to.postMessage(message, transfer);
    // A spooled message's shared raw bytes are freed once every thread holding them collected.
    if (message.type === 'spooled') setImmediate(collectGarbage);
  }
  working = false;
}

async function answer(request: ParseRequest): Promise<{ message: ThreadMessage; transfer: ArrayBuffer[] }> {
  const raw = Buffer.from(request.raw.buffer, request.raw.byteOffset, request.raw.byteLength);
  const options = Object.hasOwn(payloadOptions, request.meta.mailbox)
    ? payloadOptions[request.meta.mailbox]
    : {};
  const references = request.attachments && new References(request.attachments);
  const referenced = (sha256: string, body?: Buffer) =>
    references ? { references: { messageSha256: sha256, attachments: references.located(body) } } : {};
  try {
    if (request.spoolPath !== undefined) {
      const { spoolPath, meta, seq } = request;
      const { bytes, summary, sha256, facts } = await spoolPayload(
        raw,
        meta,
        limits,
        spoolPath,
        options,
        references,
      );
      const message = {
        type: 'spooled' as const,
        seq,
        bytes,
        summary,
        ...(request.facts ? { facts } : {}),
        ...referenced(sha256),
      };
      return { message, transfer: [] };
    }
    const payload = await buildPayload(raw, request.meta, limits, options, references);
    const body = serializePayload(payload, request.meta.format);
    const message: ThreadMessage = {
      type: 'done',
      seq: request.seq,
      body,
      summary: summarize(payload),
      ...(request.facts ? { facts: factsOf(payload) } : {}),
      ...referenced(payload.sha256, body),
    };
    return { message, transfer: [body.buffer as ArrayBuffer] };
  } catch (error) {
    const known = isPophookError(error);
    const cause = known ? error.cause : error;
    const message: ThreadMessage = {
      type: 'failed',
      seq: request.seq,
      code: known ? error.code : 'PAYLOAD_PARSE_FAILED',
      message: known ? error.message : 'building the payload failed',
      details: {
        ...(known ? error.details : {}),
        ...(cause instanceof Error ? { cause: `${cause.name}: ${cause.message}` } : {}),
      },
    };
    return { message, transfer: [] };
  }
}
