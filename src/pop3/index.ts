// The POP3 client's public surface: the client, its types and errors, and the pure parsers (exported
// so they can be tested and reused without a socket).
export { type Capabilities, expireDays, NO_CAPABILITIES, parseCapabilities } from './capabilities.ts';
export { DEFAULTS, Pop3Client } from './client.ts';
export {
  type CommandName,
  checkArgument,
  checkMessageNumber,
  type EncodedCommand,
  encodeCommand,
  encodeSaslLine,
  MASK,
} from './commands.ts';
export { type DecodeResult, DotDecoder, encodeDotStuffed } from './dot-decoder.ts';
export {
  isPop3Error,
  POP3_ERROR_CODES,
  Pop3Error,
  type Pop3ErrorCode,
  type Pop3ErrorOptions,
} from './errors.ts';
export { DEFAULT_MAX_LINE_BYTES, LineReader, type LineResult } from './line-reader.ts';
export {
  listingLines,
  parseList,
  parseListLine,
  parseStat,
  parseUidl,
  parseUidlLine,
} from './listings.ts';
export { assertAllowed, COMMAND_STATES, isAllowed, isPipelinable } from './state.ts';
export { errorFromStatus, parseStatusLine, printable, type StatusLine } from './status.ts';
export type {
  AuthMethod,
  CallOptions,
  MailboxStat,
  MessageSize,
  MessageUid,
  Pop3ClientOptions,
  Pop3Credentials,
  Pop3Logger,
  Pop3State,
  RetrOptions,
  TlsInfo,
  TlsMode,
} from './types.ts';
export { AUTH_METHODS, defaultPort, isTokenAuth, TLS_MODES } from './types.ts';
