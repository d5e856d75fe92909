// The published payload v1 JSON Schema, compiled once per caller, for tests that check what a receiver got.
import { readFile } from 'node:fs/promises';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export async function payloadValidator(): Promise<ValidateFunction> {
  const schema = JSON.parse(
    await readFile(new URL('../../schema/payload-v1.schema.json', import.meta.url), 'utf8'),
  );
  const ajv = new Ajv2020.default({ allErrors: true, strict: false });
  addFormats.default(ajv);
  return ajv.compile(schema);
}
