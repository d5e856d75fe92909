import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildPayload,
  DEFAULT_PARSE_LIMITS,
  PAYLOAD_SCHEMA_PATH,
  type PayloadV1,
} from '../../../src/payload/index.ts';
import { fixture, fixtureNames, meta } from '../../fixtures/mime/corpus.ts';

const schema = JSON.parse(readFileSync(PAYLOAD_SCHEMA_PATH, 'utf8')) as { required: string[] };
// Both are CommonJS whose module.exports is also its own `.default`: the one spelling that type-checks
// under NodeNext and runs under Node and vitest alike.
const ajv = new Ajv2020.default({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(schema);

describe('schema/payload-v1.schema.json', () => {
  const payloads = new Map<string, PayloadV1>();
  beforeAll(async () => {
    for (const name of fixtureNames())
      payloads.set(name, await buildPayload(fixture(name), meta(), DEFAULT_PARSE_LIMITS));
  });

  it('has a corpus to check', () => {
    expect(payloads.size).toBeGreaterThanOrEqual(15);
  });

  it.each(fixtureNames())('accepts the payload of %s, after a JSON round trip', (name) => {
    const body = JSON.parse(JSON.stringify(payloads.get(name)));
    expect(validate(body) ? [] : validate.errors).toEqual([]);
  });

  it('requires exactly the members a payload has', () => {
    const payload = payloads.get('plain.eml');
    expect([...schema.required].sort()).toEqual(Object.keys(payload ?? {}).sort());
  });

  it.each(['id', 'subject', 'from', 'attachments', 'sha256', 'warnings'])(
    'rejects a payload without %s',
    (member) => {
      const body = JSON.parse(JSON.stringify(payloads.get('attachments.eml'))) as Record<string, unknown>;
      delete body[member];
      expect(validate(body)).toBe(false);
    },
  );

  it('rejects wrong shapes inside: a bad digest, an unknown disposition, a non-ISO date, version 2', () => {
    const good = () => JSON.parse(JSON.stringify(payloads.get('attachments.eml'))) as PayloadV1;
    const bad: Array<(p: PayloadV1) => void> = [
      (p) => {
        p.sha256 = 'ABC';
      },
      (p) => {
        (p.attachments[0] as { disposition: string }).disposition = 'form-data';
      },
      (p) => {
        p.date = 'Tue, 01 Jul 2025 10:52:37 +0200';
      },
      (p) => {
        (p as { version: number }).version = 2;
      },
    ];
    for (const breakIt of bad) {
      const payload = good();
      breakIt(payload);
      expect(validate(payload)).toBe(false);
    }
  });
});
