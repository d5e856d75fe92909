// Where the published JSON Schemas live (payload version 1 and its Postmark-format twin), for tests, docs
// and `pophook` commands.
import { fileURLToPath } from 'node:url';

export const PAYLOAD_SCHEMA_PATH: string = fileURLToPath(
  new URL('../../schema/payload-v1.schema.json', import.meta.url),
);

export const POSTMARK_SCHEMA_PATH: string = fileURLToPath(
  new URL('../../schema/postmark-inbound.schema.json', import.meta.url),
);
