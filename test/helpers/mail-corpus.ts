// Deterministic (seeded) test messages for the POP3 interop tests, the end-to-end suite and the benchmark:
// plain, HTML, attachments of random binary, RFC 2047 and raw UTF-8 headers, dot lines (RFC 1939 §3
// byte-stuffing), sizes from about 1 KB to several MB. The same seed always gives the same bytes.
import { createHash } from 'node:crypto';

export type CorpusKind = 'plain' | 'html' | 'attachment' | 'non-ascii' | 'dot-lines';

export interface CorpusAttachment {
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
}

export interface CorpusMessage {
  kind: CorpusKind;
  /** Exactly the bytes to store; CRLF line ends unless `lineEnding: 'lf'`. */
  raw: Buffer;
  /** Without the angle brackets. */
  messageId: string;
  /** Decoded (Unicode) subject. */
  subject: string;
  from: { name: string; address: string };
  attachments: CorpusAttachment[];
}

export interface CorpusOptions {
  lineEnding?: 'crlf' | 'lf';
  /** Upper bound of an attachment in mixedCorpus, default 256 KiB. */
  maxAttachmentBytes?: number;
}

/** mulberry32: tiny, fast, good enough to make test data reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;

function randomInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function randomBytes(random: Random, size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) {
    const word = Math.floor(random() * 4294967296);
    for (let j = 0; j < 4 && i + j < size; j++) bytes[i + j] = (word >>> (8 * j)) & 0xff;
  }
  return bytes;
}

const WORDS = [
  'invoice',
  'ticket',
  'order',
  'shipment',
  'refund',
  'password',
  'meeting',
  'report',
  'quarterly',
  'customer',
  'support',
  'urgent',
  'follow',
  'up',
  'please',
  'attached',
  'thanks',
  'regards',
  'delivery',
  'the',
  'a',
  'of',
  'and',
  'to',
  'in',
  'is',
  'for',
  'on',
  'with',
  'status',
  'update',
  'account',
];
const NAMES = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra', 'Barbara Liskov'];
const UNICODE_NAMES = ['Zoë Ångström', 'José Müller', '山田 太郎', 'Ελένη Παππά', 'Дмитрий Иванов'];
const UNICODE_SUBJECTS = [
  'Grüße aus Köln',
  'Facture n° 42 — échéance',
  '日本語の件名',
  'Привет, мир',
  '😀 emoji',
];

function sentence(random: Random, words: number): string {
  const parts: string[] = [];
  for (let i = 0; i < words; i++) parts.push(pick(random, WORDS));
  const text = parts.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/** Wraps text to lines of at most 76 characters (RFC 5322 §2.1.1 recommends 78). */
function paragraph(random: Random, bytes: number): string[] {
  const lines: string[] = [];
  let line = '';
  let total = 0;
  while (total < bytes) {
    const next = sentence(random, randomInt(random, 4, 12));
    if (line.length + next.length + 1 > 76 && line.length > 0) {
      lines.push(line);
      total += line.length + 2;
      line = '';
    }
    line = line ? `${line} ${next}` : next;
  }
  if (line) lines.push(line);
  return lines;
}

function encodedWord(text: string): string {
  return `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

function base64Lines(data: Buffer): string[] {
  const encoded = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < encoded.length; i += 76) lines.push(encoded.slice(i, i + 76));
  return lines;
}

interface Draft {
  kind: CorpusKind;
  subject: string;
  /** Subject header value as it goes on the wire. */
  subjectHeader: string;
  from: { name: string; address: string };
  fromHeader: string;
  extraHeaders: string[];
  body: string[];
  attachments: CorpusAttachment[];
}

function assemble(draft: Draft, index: number, seed: number, options: CorpusOptions): CorpusMessage {
  const messageId = `${seed}.${index}.${draft.kind}@corpus.pophook.test`;
  const date = new Date(Date.UTC(2024, 0, 1) + index * 60_000).toUTCString().replace('GMT', '+0000');
  const lines = [
    `Return-Path: <${draft.from.address}>`,
    `From: ${draft.fromHeader}`,
    'To: Support <support@pophook.test>',
    `Subject: ${draft.subjectHeader}`,
    `Date: ${date}`,
    `Message-ID: <${messageId}>`,
    'MIME-Version: 1.0',
    ...draft.extraHeaders,
    '',
    ...draft.body,
  ];
  const eol = options.lineEnding === 'lf' ? '\n' : '\r\n';
  return {
    kind: draft.kind,
    raw: Buffer.from(`${lines.join(eol)}${eol}`, 'utf8'),
    messageId,
    subject: draft.subject,
    from: draft.from,
    attachments: draft.attachments,
  };
}

function baseDraft(random: Random, kind: CorpusKind, index: number): Draft {
  const name = pick(random, NAMES);
  const address = `${name.split(' ')[0]!.toLowerCase()}.${index}@example.test`;
  const subject = `${sentence(random, randomInt(random, 2, 6)).slice(0, -1)} #${index}`;
  return {
    kind,
    subject,
    subjectHeader: subject,
    from: { name, address },
    fromHeader: `${name} <${address}>`,
    extraHeaders: ['Content-Type: text/plain; charset=us-ascii', 'Content-Transfer-Encoding: 7bit'],
    body: paragraph(random, randomInt(random, 600, 3000)),
    attachments: [],
  };
}

function htmlDraft(random: Random, index: number): Draft {
  const draft = baseDraft(random, 'html', index);
  const boundary = `alt-${index}-${randomInt(random, 1e6, 9e6)}`;
  const text = paragraph(random, randomInt(random, 400, 1500));
  draft.extraHeaders = [`Content-Type: multipart/alternative; boundary="${boundary}"`];
  draft.body = [
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    ...text,
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    '',
    '<!doctype html><html><body>',
    ...text.map((line) => `<p>${line}</p>`),
    '</body></html>',
    `--${boundary}--`,
  ];
  return draft;
}

/** What a test asks of one attachment (messageWithAttachments). */
export interface AttachmentSpec {
  filename: string;
  contentType: string;
  size: number;
  disposition?: 'attachment' | 'inline';
}

function attachmentsDraft(random: Random, index: number, specs: readonly AttachmentSpec[]): Draft {
  const draft = baseDraft(random, 'attachment', index);
  const boundary = `mixed-${index}-${randomInt(random, 1e6, 9e6)}`;
  const contents = specs.map((spec) => randomBytes(random, spec.size));
  draft.attachments = specs.map(({ filename, contentType, size }, i) => ({
    filename,
    contentType,
    size,
    sha256: createHash('sha256').update(contents[i]!).digest('hex'),
  }));
  draft.extraHeaders = [`Content-Type: multipart/mixed; boundary="${boundary}"`];
  draft.body = [
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    ...paragraph(random, 300),
    ...specs.flatMap(({ filename, contentType, disposition }, i) => [
      `--${boundary}`,
      `Content-Type: ${contentType}; name="${filename}"`,
      `Content-Disposition: ${disposition ?? 'attachment'}; filename="${filename}"`,
      'Content-Transfer-Encoding: base64',
      '',
      ...base64Lines(contents[i]!),
    ]),
    `--${boundary}--`,
  ];
  return draft;
}

function attachmentDraft(random: Random, index: number, size: number): Draft {
  const spec = { filename: `file-${index}.bin`, contentType: 'application/octet-stream', size };
  return attachmentsDraft(random, index, [spec]);
}

function nonAsciiDraft(random: Random, index: number): Draft {
  const draft = baseDraft(random, 'non-ascii', index);
  const name = pick(random, UNICODE_NAMES);
  draft.subject = `${pick(random, UNICODE_SUBJECTS)} #${index}`;
  draft.subjectHeader = encodedWord(draft.subject);
  draft.from = { name, address: draft.from.address };
  draft.fromHeader = `${encodedWord(name)} <${draft.from.address}>`;
  // Raw UTF-8 in a header (RFC 6532) and in an 8bit body: must arrive byte for byte.
  draft.extraHeaders = [
    `X-Raw-Utf8: ${pick(random, UNICODE_SUBJECTS)} / ${name}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  ];
  draft.body = [
    `${name} schreibt: ${pick(random, UNICODE_SUBJECTS)}`,
    ...paragraph(random, 500),
    'Ünïcödé ✓',
  ];
  return draft;
}

/** Lines a POP3 server must byte-stuff (RFC 1939 §3), including a lone "." as the very last line. */
function dotLinesDraft(random: Random, index: number): Draft {
  const draft = baseDraft(random, 'dot-lines', index);
  const text = paragraph(random, randomInt(random, 200, 800));
  draft.body = ['.', ...text.slice(0, 2), '..', '.x', '...', ' .', '.\t', ...text.slice(2), '. .', '.'];
  return draft;
}

/** `count` small plain messages (about 1–3 KB), unique Message-IDs and subjects. */
export function smallCorpus(count: number, seed: number, options: CorpusOptions = {}): CorpusMessage[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => assemble(baseDraft(random, 'plain', i), i, seed, options));
}

/** One message of about `bytes` bytes (a base64 attachment fills it). */
export function bigMessage(bytes: number, seed: number, options: CorpusOptions = {}): CorpusMessage {
  const random = seededRandom(seed);
  // base64 grows 4/3 plus CRLF every 76 characters; leave ~1 KB for headers and text.
  const payload = Math.max(1, Math.floor(((bytes - 1200) * 3 * 76) / (4 * 78)));
  return assemble(attachmentDraft(random, 0, payload), 0, seed, options);
}

/** One message with these attachments (random bytes, base64), in this order. */
export function messageWithAttachments(
  specs: readonly AttachmentSpec[],
  seed: number,
  options: CorpusOptions = {},
): CorpusMessage {
  return assemble(attachmentsDraft(seededRandom(seed), 0, specs), 0, seed, options);
}

/** A mix of every kind in rotation; attachments log-uniform between 1 KB and maxAttachmentBytes. */
export function mixedCorpus(count: number, seed: number, options: CorpusOptions = {}): CorpusMessage[] {
  const random = seededRandom(seed);
  const maxAttachment = options.maxAttachmentBytes ?? 256 * 1024;
  const kinds: CorpusKind[] = ['plain', 'html', 'attachment', 'non-ascii', 'dot-lines'];
  return Array.from({ length: count }, (_, i) => {
    const kind = kinds[i % kinds.length]!;
    const size = Math.round(Math.exp(Math.log(1024) + random() * Math.log(maxAttachment / 1024)));
    const draft =
      kind === 'html'
        ? htmlDraft(random, i)
        : kind === 'attachment'
          ? attachmentDraft(random, i, size)
          : kind === 'non-ascii'
            ? nonAsciiDraft(random, i)
            : kind === 'dot-lines'
              ? dotLinesDraft(random, i)
              : baseDraft(random, 'plain', i);
    return assemble(draft, i, seed, options);
  });
}
