// The message.dead event's body matches its published schema, and its id names one dead letter.
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { type DeadLetterFacts, deadEvent, deadEventId } from '../../../src/webhook/dead-event.ts';

const schemaPath = new URL('../../../schema/message-dead.schema.json', import.meta.url);
const ajv = new Ajv2020.default({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')) as object);

const facts: DeadLetterFacts = {
  mailbox: 'support',
  uidl: 'UID-7',
  messageWebhookId: 'msg_abc',
  deadAtMs: Date.UTC(2026, 11, 3, 14, 0),
  error: { code: 'WEBHOOK_HTTP_4XX', reason: 'HTTP 422', status: 422, statusText: 'Unprocessable Entity' },
  attempts: 1,
  size: 1234,
  subject: 'Invoice',
  from: 'Ann <ann@example.com>',
  headers: [{ name: 'From', value: 'Ann <ann@example.com>' }],
};

describe('deadEvent and schema/message-dead.schema.json', () => {
  it('builds an event the schema accepts, every member present, the unknown ones null', () => {
    const event = deadEvent(facts);
    expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
    expect(event).toMatchObject({
      type: 'message.dead',
      deadAt: '2026-12-03T14:00:00.000Z',
      error: { code: 'WEBHOOK_HTTP_4XX', status: 422, body: null },
      attempts: 1,
    });
    const oversize = deadEvent({
      ...facts,
      error: { code: 'MESSAGE_TOO_LARGE' },
      attempts: undefined,
      size: null,
    });
    expect(validate(oversize), JSON.stringify(validate.errors)).toBe(true);
    expect(oversize.attempts).toBe(0);
    expect(oversize.error).toEqual({
      code: 'MESSAGE_TOO_LARGE',
      reason: null,
      status: null,
      statusText: null,
      body: null,
    });
  });

  it('refuses an event without its type or with a malformed id', () => {
    const { type: _type, ...untyped } = deadEvent(facts);
    expect(validate(untyped)).toBe(false);
    expect(validate({ ...deadEvent(facts), id: 'msg_abc' })).toBe(false);
  });

  it('gives one dead letter one id (its retries) and a later dead letter of the same message another', () => {
    expect(deadEventId('support', 'UID-7', 1)).toBe(deadEventId('support', 'UID-7', 1));
    expect(deadEventId('support', 'UID-7', 2)).not.toBe(deadEventId('support', 'UID-7', 1));
    expect(deadEventId('sales', 'UID-7', 1)).not.toBe(deadEventId('support', 'UID-7', 1));
    expect(deadEventId('support', 'UID-7', 1)).toMatch(/^dead_[0-9a-f]{24}$/);
  });
});
