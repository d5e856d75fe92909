// The test event's body matches its published schema, and its id can serve as a webhook-id.
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { testEvent } from '../../../src/webhook/test-event.ts';

const schemaPath = new URL('../../../schema/test-event.schema.json', import.meta.url);
const ajv = new Ajv2020.default({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')) as object);

describe('schema/test-event.schema.json', () => {
  it('accepts the event pophook sends, and refuses one without its type', () => {
    const event = testEvent('tickets', new Date(Date.UTC(2026, 0, 2)));
    expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
    expect(event.sentAt).toBe('2026-01-02T00:00:00.000Z');
    const { type: _type, ...untyped } = event;
    expect(validate(untyped)).toBe(false);
  });

  it('gives every event its own id', () => {
    const now = new Date();
    expect(testEvent('a', now).id).not.toBe(testEvent('a', now).id);
  });
});
