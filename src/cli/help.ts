// Usage texts of the pophook command and its subcommands.
import { PROBE_HELP } from './probe-args.ts';

export const USAGE = `Usage: pophook <command> [options]

Commands:
  run --config FILE                 scheduler + poll worker + deliver worker in one process
  scheduler --config FILE           only the scheduler (one or more per fleet)
  worker --config FILE [--role poll|deliver|all]
                                    poll and/or deliver workers
  check --config FILE               validate the config; connect to every mailbox; a signed test event
                                    to every webhook; report
  send-test WEBHOOK --config FILE   POST a signed test event (type pophook.test) to one webhook
  probe --host H [--port P] --tls implicit|starttls|none [--user U]
                                    inspect one POP3 server: greeting, TLS, capabilities, counts
  poll MAILBOX --config FILE --once one poll session now, in the foreground
  poll --dry-run [MAILBOX] --config FILE [--json]
                                    what the next session would delete, fetch and skip; changes nothing
  dlq list|show|replay [ID…|--all] --config FILE
                                    dead letters: list, show one with its headers, replay [--wait]
  retry list|now [ID…|--all] --config FILE
                                    deliveries waiting on backoff: list, attempt now
  status --config FILE [--json]     mailboxes, webhooks and queues at a glance

Without --config, the config file is POPHOOK_CONFIG, else ./pophook.yml when it exists.
'pophook --version' (or 'pophook <command> --version') prints the version.
Run 'pophook <command> --help' for details.
`;

const COMMANDS: Record<string, string> = {
  probe: PROBE_HELP,
  run: `Usage: pophook run --config FILE

Runs the scheduler, a poll worker and a deliver worker in one process. SIGTERM or SIGINT drains
(in-flight sessions and deliveries finish); a second signal forces. Exit code 0 after a shutdown.
`,
  scheduler: `Usage: pophook scheduler --config FILE

Keeps one poll schedule per configured mailbox in Redis (removing those of mailboxes no longer
configured). Any number of schedulers may run against one Redis without duplicate polls.
`,
  worker: `Usage: pophook worker --config FILE [--role poll|deliver|all]

poll: runs POP3 sessions (one per mailbox at a time across the fleet).
deliver: parses messages and POSTs them to their webhooks. all (default): both.
`,
  check: `Usage: pophook check --config FILE [--json]
       pophook check --config FILE --routes MAILBOX [--last N] [--json]

Validates the configuration (every problem listed with its path), checks Redis (reachable, writable,
maxmemory-policy, AOF), logs in to every mailbox (STAT) and POSTs a signed test event to every
webhook (see send-test); a webhook passes only with a 2xx answer, and a failure shows the status
and the first line of the answer. Exit code 0 when everything passed, 1 otherwise.

With --routes MAILBOX: which route each of the mailbox's last N messages (default 10) would take,
read from their headers (TOP n 0); nothing is retrieved, deleted or recorded. A route with a
condition on the body (hasAttachments, attachmentType, bounce) is shown as undecided.
`,
  'send-test': `Usage: pophook send-test WEBHOOK --config FILE [--json]

POSTs one signed test event to the webhook WEBHOOK of the config, with the Standard Webhooks headers
and the webhook's own headers, as a delivery would: {"type": "pophook.test", "id": "test_…",
"webhook": WEBHOOK, "sentAt": "…"} (the id equals the webhook-id header). No mail is involved and
nothing is retried. Exit code 0 on a 2xx answer, 1 otherwise (the status and the first line of the
answer are shown).
`,
  poll: `Usage: pophook poll MAILBOX --config FILE --once
       pophook poll --dry-run [MAILBOX] --config FILE [--json]

--once runs one poll session of MAILBOX now, in the foreground, and prints its report as JSON:
listed, fetched, deleted, left for later. Deliveries happen in the workers.
--dry-run shows, for MAILBOX or every mailbox, what its next session would delete, fetch and skip
(the start point, maxMessageSize, the batch budgets), with counts and the first messages of each
list (UIDL, size, subject). It changes nothing: no ledger write, no DELE, no RETR, no enqueue, and
the session ends without QUIT.
`,
  dlq: `Usage: pophook dlq list --config FILE [--json]
       pophook dlq show ID…|--all --config FILE [--json]
       pophook dlq replay ID…|--all --config FILE [--wait [--timeout 2m]]

Dead letters are messages whose delivery failed for good (a 4xx answer, the retry period over, a
message over maxMessageSize); they stay on the POP3 server. ID is the webhook id (msg_…) or
MAILBOX/UIDL. list shows each one's subject, from, date, size, reason, attempts and the receiver's
answer (status line and the first KiB of its body); show adds the message headers. replay queues
them again with a fresh retry period (a message over maxMessageSize is looked at afresh by the next
poll, with the current maxMessageSize); --wait then waits for each delivery (delivered, dead again or
timed out after --timeout) and exits 1 unless all were delivered.
`,
  retry: `Usage: pophook retry list --config FILE [--json]
       pophook retry now ID…|--all --config FILE

Deliveries waiting on backoff: their webhook failed with a status or error worth retrying, and the
next attempt waits (retryDelay doubling up to retryMaxDelay). list shows each with its attempts, when
it is tried next and the last error; now attempts them at once (the retry period is not reset). ID
is the webhook id (msg_…) or MAILBOX/UIDL. Exit 1 when an ID names no delivery waiting on backoff.
`,
  status: `Usage: pophook status --config FILE [--json]

One screen on the deployment, read from Redis: per mailbox the last poll (and its outcome), messages
listed on the server, backlog (queued, not yet delivered), age of the oldest undelivered message, dead
letters, the lock holder while a session runs, and the next scheduled poll; per webhook the success
rate of the last hour's attempts (up to 100) and the last error; queue depths; Redis memory.
--json prints the same data for machines.
`,
};

export function commandHelp(command: string): string | undefined {
  return COMMANDS[command];
}
