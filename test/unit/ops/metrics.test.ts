// Metric naming and the series the workers' observations and the Redis snapshot produce.
import { describe, expect, it } from 'vitest';
import { PophookMetrics } from '../../../src/ops/metrics.ts';
import type { Snapshot } from '../../../src/ops/snapshot.ts';

const snapshot: Snapshot = {
  at: 1_700_000_100_000,
  mailboxes: [
    {
      id: 'support',
      webhook: 'tickets',
      pollIntervalMs: 60_000,
      lastOkAt: 1_700_000_000_000,
      state: { state: 'credentials', code: 'OAUTH_INVALID_GRANT' },
      ledger: { queued: 2, delivered: 5, dead: 1, skipped: 0 },
      oldestQueuedAt: 1_700_000_040_000,
    },
  ],
  webhooks: [],
  queues: {
    poll: { waiting: 0, active: 1, delayed: 1, failed: 0 },
    deliver: { waiting: 3, active: 0, delayed: 0, failed: 1 },
  },
  redis: { usedBytes: 1_000, maxBytes: 4_000 },
};

describe('PophookMetrics', () => {
  it('names every registered metric pophook_…, process metrics included', async () => {
    const metrics = new PophookMetrics(async () => snapshot);
    await metrics.render();
    const names = metrics.registry.getMetricsAsArray().map((m) => m.name);
    expect(names).toContain('pophook_process_cpu_user_seconds_total');
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) expect(name).toMatch(/^pophook_[a-z0-9_]+$/);
  });

  it('counts polls, messages and bytes per mailbox', async () => {
    const metrics = new PophookMetrics(undefined, { processMetrics: false });
    metrics.observePoll({
      mailbox: 'support',
      outcome: 'ok',
      durationMs: 5,
      fetched: 3,
      fetchedBytes: 900,
      deleted: 2,
    });
    metrics.observePoll({ mailbox: 'support', outcome: 'error', durationMs: 5 });
    const text = await metrics.render();
    expect(text).toContain('pophook_polls_total{mailbox="support",outcome="ok"} 1');
    expect(text).toContain('pophook_polls_total{mailbox="support",outcome="error"} 1');
    expect(text).toContain('pophook_messages_fetched_total{mailbox="support"} 3');
    expect(text).toContain('pophook_bytes_fetched_total{mailbox="support"} 900');
    expect(text).toContain('pophook_messages_deleted_total{mailbox="support"} 2');
  });

  it('classes deliveries and counts retries and dead letters; duplicates are not attempts', async () => {
    const metrics = new PophookMetrics(undefined, { processMetrics: false });
    const base = { mailbox: 'support', webhook: 'tickets', durationMs: 120 };
    metrics.observeDelivery({ ...base, outcome: 'delivered', status: 204 });
    metrics.observeDelivery({ ...base, outcome: 'retry', status: 503, code: 'WEBHOOK_HTTP_RETRYABLE' });
    metrics.observeDelivery({ ...base, outcome: 'retry', code: 'WEBHOOK_TIMEOUT' });
    metrics.observeDelivery({ ...base, outcome: 'retry', code: 'WEBHOOK_NETWORK' });
    metrics.observeDelivery({ ...base, outcome: 'dead-letter', status: 400, code: 'WEBHOOK_HTTP_4XX' });
    metrics.observeDelivery({ ...base, outcome: 'already-delivered' });
    const text = await metrics.render();
    for (const cls of ['2xx', '5xx', 'timeout', 'network', '4xx']) {
      expect(text).toContain(
        `pophook_deliveries_total{webhook="tickets",mailbox="support",class="${cls}"} 1`,
      );
    }
    expect(text).toContain('pophook_delivery_retries_total{webhook="tickets"} 3');
    expect(text).toContain('pophook_dead_letters_total{mailbox="support",webhook="tickets"} 1');
    expect(text).toContain('pophook_delivery_duration_seconds_count{webhook="tickets"} 5');
  });

  it('counts duplicates across mailboxes, skipped and sent marked; a skipped one is no attempt', async () => {
    const metrics = new PophookMetrics(undefined, { processMetrics: false });
    const base = { mailbox: 'billing', webhook: 'tickets', durationMs: 10 };
    metrics.observeDelivery({ ...base, outcome: 'duplicate' });
    metrics.observeDelivery({ ...base, outcome: 'duplicate' });
    metrics.observeDelivery({ ...base, outcome: 'delivered', status: 200, marked: true });
    metrics.observeDelivery({ ...base, outcome: 'retry', code: 'DEDUPE_FIRST_IN_FLIGHT' });
    const text = await metrics.render();
    expect(text).toContain(
      'pophook_duplicates_total{mailbox="billing",webhook="tickets",action="skipped"} 2',
    );
    expect(text).toContain('pophook_duplicates_total{mailbox="billing",webhook="tickets",action="marked"} 1');
    expect(text).toContain('pophook_delivery_duration_seconds_count{webhook="tickets"} 1');
    expect(text).not.toContain('pophook_delivery_retries_total{webhook="tickets"}');
  });

  it('sets the Redis-backed gauges from the snapshot at scrape time', async () => {
    const metrics = new PophookMetrics(async () => snapshot, { processMetrics: false });
    const text = await metrics.render();
    expect(text).toContain('pophook_queue_jobs{queue="deliver",state="waiting"} 3');
    expect(text).toContain('pophook_queue_jobs{queue="poll",state="delayed"} 1');
    expect(text).toContain('pophook_ledger_entries{mailbox="support",state="queued"} 2');
    expect(text).toContain('pophook_ledger_entries{mailbox="support",state="dead"} 1');
    expect(text).toContain('pophook_last_successful_poll_timestamp_seconds{mailbox="support"} 1700000000');
    // One series per state, 1 for the state the mailbox is in: an alert needs no knowledge of the others.
    expect(text).toContain('pophook_mailbox_state{mailbox="support",state="credentials"} 1');
    expect(text).toContain('pophook_mailbox_state{mailbox="support",state="ok"} 0');
    expect(text.match(/^pophook_mailbox_state\{mailbox="support",state="[a-z-]+"\} 0$/gm)).toHaveLength(7);
    expect(text).toContain('pophook_oldest_undelivered_age_seconds{mailbox="support"} 60');
    expect(text).toContain('pophook_redis_memory_headroom_bytes{limit="maxmemory"} 3000');
    expect(text).toContain('pophook_state_read_up 1');
  });

  it("without maxmemory, the headroom is the machine's memory left, never 0 (the alert must not fire)", async () => {
    const unbounded = { ...snapshot, redis: { usedBytes: 1_000, maxBytes: 0, systemBytes: 8_000 } };
    const metrics = new PophookMetrics(async () => unbounded, { processMetrics: false });
    const text = await metrics.render();
    expect(text).toContain('pophook_redis_memory_headroom_bytes{limit="system"} 7000');
    expect(text).not.toMatch(/^pophook_redis_memory_headroom_bytes(\{[^}]*\})? 0$/m);
  });

  it('without any known limit, the headroom series is absent rather than 0', async () => {
    const unknown = { ...snapshot, redis: { usedBytes: 1_000, maxBytes: 0 } };
    const metrics = new PophookMetrics(async () => unknown, { processMetrics: false });
    expect(await metrics.render()).not.toMatch(/^pophook_redis_memory_headroom_bytes/m);
  });

  it('reports a failed state read instead of failing the scrape', async () => {
    const metrics = new PophookMetrics(() => Promise.reject(new Error('redis down')), {
      processMetrics: false,
    });
    expect(await metrics.render()).toContain('pophook_state_read_up 0');
  });
});
