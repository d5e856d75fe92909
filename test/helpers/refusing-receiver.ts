// A receiver policy for the dead-letter and retry-now tests: the message with the refused subject gets a 400
// with the given body (a dead letter at once), every other one a 503 with Retry-After: an hour, so its
// delivery waits on backoff for the whole test (the backoff's full jitter never goes under Retry-After).
import type { ReceivedRequest, Receiver, Reply } from './receiver.ts';

export const subjectOf = (r: ReceivedRequest): string | undefined =>
  (r.json as { subject?: string } | undefined)?.subject;

/** Webhook settings to go with it. */
export const SLOW_RETRY = { retryDelay: '1h', retryMaxDelay: '2h' };

export function refuseOneDelayOthers(
  receiver: Receiver,
  refusedSubject: string,
  refusal: Reply,
): Promise<void> {
  return receiver.setRespond((r) =>
    subjectOf(r) === refusedSubject ? refusal : { status: 503, headers: { 'retry-after': '3600' } },
  );
}
