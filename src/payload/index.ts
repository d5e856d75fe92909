// The public face of src/payload: raw RFC 5322 bytes in, payload v1 JSON out. Knows nothing of POP3,
// queues or webhooks.
export { buildPayload } from './build-payload.ts';
export { type ParseResult, ParserPool, type ParserPoolOptions, type ParserPoolStats } from './parser-pool.ts';
export { toPostmark } from './postmark.ts';
export { PAYLOAD_SCHEMA_PATH, POSTMARK_SCHEMA_PATH } from './schema.ts';
export { type SpoolResult, spoolPayload } from './spool-payload.ts';
export {
  DEFAULT_PARSE_LIMITS,
  type Disposition,
  type MailboxPayloadOptions,
  type ParseLimits,
  type PayloadAddress,
  type PayloadAttachment,
  type PayloadAuthentication,
  type PayloadEnvelope,
  type PayloadHeader,
  type PayloadMeta,
  type PayloadOptions,
  type PayloadSummary,
  type PayloadV1,
  type PayloadWarning,
  type StructureLimits,
} from './types.ts';
