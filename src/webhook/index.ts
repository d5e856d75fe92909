// Webhooks: Standard Webhooks signing, one signed POST per attempt, and the retry rules.
export { nextAttemptDelayMs, shouldGiveUp } from './policy.ts';
export { reachWebhook } from './reach.ts';
export { WebhookSender } from './send.ts';
