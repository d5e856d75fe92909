// The public face of src/payload: raw RFC 5322 bytes in, payload v1 JSON out. Knows nothing of POP3,
// queues or webhooks.
export { buildPayload } from './build-payload.ts';
export { ParserPool, type ParserPoolOptions } from './parser-pool.ts';
export { toPostmark } from './postmark.ts';
export { type RootHeaders, readMessageHeaders } from './root-headers.ts';
export { routeFacts } from './route-facts.ts';
export { PAYLOAD_SCHEMA_PATH, POSTMARK_SCHEMA_PATH } from './schema.ts';
export { spoolPayload } from './spool-payload.ts';
export {
  DEFAULT_PARSE_LIMITS,
  type ParseLimits,
  type PayloadMeta,
  type PayloadV1,
} from './types.ts';
