// The routing step of a message of a mailbox whose routes depend on the message, before any POST: the
// payload is built once (its facts are what routes look at), the routes decide (src/routing/match.ts),
// and the message is then sent to its one target with that payload, dropped (recorded as delivered with
// `dropped`), or fanned out: the ledger records every target `pending` (ledgerFanOut: the first decision
// stands, so a repeat after a crash never re-routes) and each pending target gets a job of its own with
// its own webhook-id (deliver-job.ts adds them). No matching route makes the message a dead letter
// (ROUTE_UNMATCHED): it stays on the server until the routes are fixed and it is replayed.
import type { Routing } from '../config/index.ts';
import { PophookError } from '../errors.ts';
import type { TargetEntry } from '../ledger/index.ts';
import { fanOutWebhookId } from '../queue/ids.ts';
import type { MessageDelivery } from '../queue/jobs.ts';
import { decideRoute } from '../routing/match.ts';
import { type DeliverDeps, failedAttempt, type NothingSent } from './deliver.ts';
import { type PreparedPayload, preparePayload } from './prepared-payload.ts';

export type RouteStep =
  | { kind: 'deliver'; webhook: string; prepared: PreparedPayload }
  /** Targets still pending, each with its webhook-id. */
  | { kind: 'fanned-out'; targets: Array<{ webhook: string; id: string }> }
  | { kind: 'dropped'; route: string };

/** Whether a mailbox's routes send every message to one webhook whatever it says (the shorthand). */
export function routesDependOnMessage(routing: Routing): boolean {
  const [first] = routing.routes;
  const fixed = first?.match === undefined && (routing.mode === 'first' || routing.routes.length === 1);
  return !(fixed && first?.deliver.length === 1);
}

export async function routeStep(
  deps: DeliverDeps,
  job: MessageDelivery,
  routing: Routing,
  options: { signal?: AbortSignal; attempt?: number },
): Promise<RouteStep | NothingSent> {
  let prepared: PreparedPayload | undefined;
  try {
    const entry = await deps.ledger.get(job.mailbox, job.uidl);
    if (entry?.state === 'delivered') return { outcome: 'already-delivered' };
    if (entry?.targets) return { kind: 'fanned-out', targets: pending(entry.targets) };
    // Built in the shape of the routes' first webhook: a message for that one is sent without a rebuild.
    const webhook = deps.webhooks[job.webhook];
    if (!webhook) throw new PophookError('CONFIG_INVALID', `webhook "${job.webhook}" is not configured`);
    prepared = await preparePayload(deps, job, webhook, { ...options, facts: true });
    if (!prepared.facts) throw new Error('the payload came without the route facts asked for');
    const decision = decideRoute(routing, prepared.facts);
    if (decision.kind === 'deliver' && decision.targets.length === 1) {
      const step: RouteStep = { kind: 'deliver', webhook: decision.targets[0]!, prepared };
      prepared = undefined;
      return step;
    }
    await prepared.dispose();
    prepared = undefined;
    if (decision.kind === 'drop') {
      await deps.ledger.markDropped(job.mailbox, job.uidl, decision.route);
      deps.logger.debug({ uidl: job.uidl, route: decision.route }, 'dropped by route');
      return { kind: 'dropped', route: decision.route };
    }
    if (decision.kind === 'deliver') {
      const targets = decision.targets.map((webhook) => ({
        webhook,
        id: fanOutWebhookId(job.webhookId, webhook),
      }));
      const recorded = await deps.ledger.fanOut(job.mailbox, job.uidl, targets);
      if (recorded.state === 'delivered' || recorded.state === 'dead')
        return { outcome: 'already-delivered' };
      return { kind: 'fanned-out', targets: pending(recorded.targets) };
    }
    throw new PophookError(
      'ROUTE_UNMATCHED',
      'no route matched the message and the mailbox has no default route',
      {
        details: { mailbox: job.mailbox },
      },
    );
  } catch (error) {
    await prepared?.dispose();
    return failedAttempt(deps, job, deps.webhooks[job.webhook], error, options.attempt);
  }
}

function pending(targets: Record<string, TargetEntry>): Array<{ webhook: string; id: string }> {
  return Object.entries(targets).flatMap(([webhook, t]) =>
    t.state === 'pending' ? [{ webhook, id: t.id }] : [],
  );
}
