// Where the published JSON Schema of payload version 1 lives, for tests, docs and `pophook` commands.
import { fileURLToPath } from 'node:url';

export const PAYLOAD_SCHEMA_PATH: string = fileURLToPath(
  new URL('../../schema/payload-v1.schema.json', import.meta.url),
);
