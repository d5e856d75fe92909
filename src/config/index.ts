// The public face of src/config: load and validate the YAML file once at the entry point, pass the
// frozen Config down. Everything else in this folder is internal.

export { type ConfigKeyDescription, describeConfigSchema } from './describe.ts';
export { duration as durationSchema, size as sizeSchema } from './fields.ts';
export { loadConfig, type ParseConfigOptions, parseConfig } from './load.ts';
export { maskUrlPassword } from './redact.ts';
export { renderConfigReference } from './reference.ts';
export type {
  AuthMethod,
  Config,
  ConfigIssue,
  CredentialConfig,
  DeliveryConfig,
  GoogleCredential,
  GoogleServiceAccountCredential,
  HttpConfig,
  LogConfig,
  LogLevel,
  MailboxConfig,
  Microsoft365Credential,
  OAuth2Credential,
  RedisConfig,
  SecretSource,
  TlsMode,
  WatchdogConfig,
  WebhookConfig,
} from './types.ts';
export { AUTH_METHODS, LOG_LEVELS, TLS_MODES } from './types.ts';
export { parseDuration, parseSize } from './units.ts';
