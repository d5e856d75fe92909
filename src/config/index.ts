// The public face of src/config: load and validate the YAML file once at the entry point, pass the
// frozen Config down. Everything else in this folder is internal.

export { serviceAccountKeyProblem } from './credentials.ts';
export { describeConfigSchema } from './describe.ts';
export { RESERVED_HEADERS } from './fields.ts';
export { loadConfig, parseConfig } from './load.ts';
export { maskUrlPassword } from './redact.ts';
export { renderConfigReference } from './reference.ts';
export { ROUTE_REGEX_FLAGS, type Route, type RouteMatch, type Routing } from './routes.ts';
export type {
  AttachmentsConfig,
  Config,
  CredentialConfig,
  DedupeConfig,
  GoogleCredential,
  GoogleServiceAccountCredential,
  MailboxConfig,
  Microsoft365Credential,
  OAuth2Credential,
  OversizePolicy,
  SecretSource,
  StartAt,
  StorageConfig,
  WebhookConfig,
} from './types.ts';
export { parseDuration, parseSize } from './units.ts';
