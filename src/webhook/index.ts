// Webhooks: Standard Webhooks signing, one signed POST per attempt, the retry rules, the test event.
export { nextAttemptDelayMs, shouldGiveUp, webhookBackoff } from './policy.ts';
export { type ReplayableBody, WebhookSender } from './send.ts';
export { sendTestEvent } from './test-event.ts';
