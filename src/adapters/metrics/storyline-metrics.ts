/**
 * Prometheus metrics for one Storyline instance, in a registry of its own (not prom-client's
 * global one), so that several instances in one process (tests) never share or clash.
 *
 * Nothing in the use cases knows about it: the composition root wraps the appender, listens to
 * the live feed, and passes the two small callbacks the core offers (`onBatch`, `onEnd`).
 */
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type LabelValues,
} from 'prom-client';
import type { AppendRequest, AppendResult } from '../../app/decide-appends.ts';
import type { BatchSize } from '../../app/appender.ts';
import type { FeedEntry, LiveFeed } from '../../app/live-feed.ts';
import type { LiveCloseReason } from '../../app/live-session.ts';
import { isStorylineError } from '../../domain/errors.ts';
import type { HttpMetrics, HttpRequestSample } from '../http/request-metrics.ts';

/** The endpoints and how many events each is behind the log's head (WebhookRegistry). */
export interface WebhookLagSource {
  list(): Promise<readonly { readonly id: string; readonly lag: number }[]>;
}

/** What the HTTP app calls to append: the Appender, or the same wrapped by `meterAppends`. */
export interface AppendPort {
  append(request: AppendRequest): Promise<AppendResult>;
}

/** Where the live subscriber counts come from (LiveSessions, LiveHub). */
export interface LiveCounts {
  /** Every live session: WebSocket connections and SSE streams. */
  readonly sessions: { readonly size: number };
  /** WebSocket connections. */
  readonly hub: { readonly connections: number };
}

type AppendOutcome = 'appended' | 'duplicate' | 'rejected';

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const sizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

export class StorylineMetrics implements HttpMetrics {
  readonly registry = new Registry();
  readonly #appends: Counter<'outcome' | 'code'>;
  readonly #appendSeconds: Histogram<'outcome'>;
  readonly #eventsAppended: Counter<'type'>;
  readonly #batchRequests: Histogram;
  readonly #batchEvents: Histogram;
  readonly #fanOutLagSeconds: Histogram;
  readonly #liveEnded: Counter<'reason'>;
  readonly #httpSeconds: Histogram<'method' | 'route' | 'status'>;
  readonly #liveSources = new Set<LiveCounts>();
  readonly #webhookDeliveries: Counter<'webhook'>;
  readonly #webhookFailures: Counter<'webhook'>;
  readonly #webhookLagSources = new Set<WebhookLagSource>();
  #processMetrics = false;

  constructor() {
    const registers = [this.registry];
    this.#appends = new Counter({
      name: 'storyline_appends_total',
      help: 'Append requests handed to the appender, by outcome (appended, duplicate: an idempotent retry, rejected) and error code',
      labelNames: ['outcome', 'code'],
      registers,
    });
    this.#appendSeconds = new Histogram({
      name: 'storyline_append_duration_seconds',
      help: 'Time from handing an append request to the appender to its outcome (queueing for the group commit included)',
      labelNames: ['outcome'],
      buckets: latencyBuckets,
      registers,
    });
    this.#eventsAppended = new Counter({
      name: 'storyline_events_appended_total',
      help: 'Events written to the log by this process, by event type',
      labelNames: ['type'],
      registers,
    });
    this.#batchRequests = new Histogram({
      name: 'storyline_append_batch_requests',
      help: 'Append requests per group-commit transaction',
      buckets: sizeBuckets,
      registers,
    });
    this.#batchEvents = new Histogram({
      name: 'storyline_append_batch_events',
      help: 'Events submitted per group-commit transaction',
      buckets: sizeBuckets,
      registers,
    });
    const sources = this.#liveSources;
    new Gauge({
      name: 'storyline_live_subscribers',
      help: 'Live subscribers connected now, by transport (websocket, sse)',
      labelNames: ['transport'],
      registers,
      collect() {
        let websocket = 0;
        let sse = 0;
        for (const { sessions, hub } of sources) {
          websocket += hub.connections;
          // Every WebSocket connection has a session too; the other sessions are SSE streams.
          sse += Math.max(sessions.size - hub.connections, 0);
        }
        this.set({ transport: 'websocket' }, websocket);
        this.set({ transport: 'sse' }, sse);
      },
    });
    this.#fanOutLagSeconds = new Histogram({
      name: 'storyline_live_fanout_lag_seconds',
      help: "Time from an event's recordedAt (database clock, at commit) to the live feed handing it to the subscribers",
      buckets: latencyBuckets,
      registers,
    });
    this.#liveEnded = new Counter({
      name: 'storyline_live_sessions_ended_total',
      help: 'Live sessions the server ended, by reason (slow_consumer: could not keep up; going_away: shutdown; unavailable: the database failed a subscription; log_replaced: the log was restored or recreated)',
      labelNames: ['reason'],
      registers,
    });
    this.#httpSeconds = new Histogram({
      name: 'storyline_http_request_duration_seconds',
      help: 'HTTP request duration until the response starts, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: latencyBuckets,
      registers,
    });
    this.#webhookDeliveries = new Counter({
      name: 'storyline_webhook_deliveries_total',
      help: 'Events delivered to webhook endpoints (answered 2xx) by this process, by endpoint',
      labelNames: ['webhook'],
      registers,
    });
    this.#webhookFailures = new Counter({
      name: 'storyline_webhook_failures_total',
      help: 'Failed webhook delivery attempts by this process (refused, network, timeout, non-2xx), by endpoint',
      labelNames: ['webhook'],
      registers,
    });
    const lagSources = this.#webhookLagSources;
    new Gauge({
      name: 'storyline_webhook_lag_events',
      help: "Events in the log after a webhook endpoint's cursor (read from the database at scrape time), by endpoint",
      labelNames: ['webhook'],
      registers,
      async collect() {
        this.reset();
        for (const source of lagSources) {
          // The database away: no lag samples, rather than no metrics at all.
          const endpoints = await source.list().catch(() => []);
          for (const { id, lag } of endpoints) this.set({ webhook: id }, lag);
        }
      },
    });
  }

  observeWebhookDelivered(webhookId: string): void {
    this.#webhookDeliveries.inc({ webhook: webhookId });
  }

  observeWebhookFailed(webhookId: string): void {
    this.#webhookFailures.inc({ webhook: webhookId });
  }

  /** Reports each endpoint's lag at every scrape; returns what undoes it. */
  observeWebhookLag(source: WebhookLagSource): () => void {
    this.#webhookLagSources.add(source);
    return () => this.#webhookLagSources.delete(source);
  }

  /** Adds prom-client's process metrics (CPU, memory, event loop lag, GC…); once is enough. */
  collectProcessMetrics(): void {
    if (this.#processMetrics) return;
    this.#processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** The appender, counting each request's outcome and timing it. */
  meterAppends(appender: AppendPort): AppendPort {
    return {
      append: async (request) => {
        const stop = this.#appendSeconds.startTimer();
        let outcome: AppendOutcome = 'rejected';
        let code = '';
        try {
          const result = await appender.append(request);
          outcome = result.appended ? 'appended' : 'duplicate';
          return result;
        } catch (error) {
          code = isStorylineError(error) ? error.code : 'internal';
          throw error;
        } finally {
          stop({ outcome });
          this.#appends.inc({ outcome, code });
        }
      },
    };
  }

  /**
   * For the Appender's `onCommit`: every event this process writes, whoever asked (an HTTP
   * request, the seed at start, an import), counted once it is committed.
   */
  observeCommitted(events: readonly { readonly type: string }[]): void {
    for (const event of events) this.#eventsAppended.inc({ type: event.type });
  }

  /** For the Appender's `onBatch`. */
  observeBatch(batch: BatchSize): void {
    this.#batchRequests.observe(batch.requests);
    this.#batchEvents.observe(batch.events);
  }

  /** For LiveSession's `onEnd`. */
  observeLiveEnded(reason: LiveCloseReason): void {
    this.#liveEnded.inc({ reason });
  }

  /**
   * Counts subscribers and measures the fan-out lag of every event the feed reads. Register it
   * after the LiveSessions, so that its feed listener runs once they have sent each batch.
   * Returns what undoes it.
   */
  observeLive(feed: LiveFeed, counts: LiveCounts): () => void {
    this.#liveSources.add(counts);
    const unlisten = feed.listen((entries: readonly FeedEntry[]) => {
      const now = Date.now();
      for (const entry of entries) {
        this.#fanOutLagSeconds.observe(
          Math.max(now - Date.parse(entry.event.recordedAt), 0) / 1000,
        );
      }
    });
    return () => {
      unlisten();
      this.#liveSources.delete(counts);
    };
  }

  observeHttpRequest(sample: HttpRequestSample): void {
    const labels: LabelValues<'method' | 'route' | 'status'> = {
      method: sample.method,
      route: sample.route,
      status: sample.status,
    };
    this.#httpSeconds.observe(labels, sample.seconds);
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
