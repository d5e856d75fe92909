// Webhooks: Standard Webhooks signing, one signed POST per attempt, and the retry rules.
export {
  classifyStatus,
  MAX_RETRY_AFTER_MS,
  nextAttemptDelayMs,
  parseRetryAfter,
  type RetryDelayOptions,
  retryDelayMs,
  type StatusClass,
  shouldGiveUp,
} from './policy.ts';
export { reachWebhook } from './reach.ts';
export {
  type ReplayableBody,
  type SendResult,
  type WebhookMessage,
  WebhookSender,
  type WebhookTarget,
} from './send.ts';
export {
  decodeSecret,
  signatureHeader,
  signatureHeaderOf,
  type WebhookSecret,
  webhookHeaders,
} from './sign.ts';
