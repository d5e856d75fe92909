// Where the published JSON Schemas live (payload version 1 and its Postmark-format twin), for tests, docs
// and `pophook` commands.
import { packageFile } from '../package-files.ts';

export const PAYLOAD_SCHEMA_PATH: string = packageFile('schema/payload-v1.schema.json');

export const POSTMARK_SCHEMA_PATH: string = packageFile('schema/postmark-inbound.schema.json');
