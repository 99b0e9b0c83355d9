/**
 * Webhooks wired together: the registry (CLI and HTTP) and, in a serving process, the delivery
 * worker woken by the live feed. The composition root calls in here with one line each.
 */
import type { Logger } from 'pino';
import type { LiveFeed } from '../../app/live-feed.ts';
import type { LogReader } from '../../app/ports.ts';
import { WebhookDelivery } from '../../app/webhook-delivery.ts';
import { WebhookRegistry } from '../../app/webhook-registry.ts';
import type { WebhookConfig } from '../../config.ts';
import type { StorylineMetrics } from '../metrics/storyline-metrics.ts';
import type { PostgresConnection } from '../postgres/connect.ts';
import { HttpWebhookSender } from './http-webhook-sender.ts';
import { PostgresDeliveryLease } from './postgres-delivery-lease.ts';
import { PostgresWebhooks } from './postgres-webhooks.ts';
import { WebhookTargets } from './webhook-targets.ts';

export const defaultWebhookConfig: WebhookConfig = {
  allowHttp: false,
  allowPrivate: false,
  maxFailures: 10,
  timeoutMs: 10_000,
  retryBaseMs: 1000,
  retryMaxMs: 600_000,
};

export function createWebhookRegistry(
  connection: Pick<PostgresConnection, 'db'>,
  reader: Pick<LogReader, 'logInfo'>,
  config: Pick<WebhookConfig, 'allowHttp' | 'allowPrivate'>,
  onChange?: () => void,
): WebhookRegistry {
  return new WebhookRegistry(
    new PostgresWebhooks(connection.db),
    new WebhookTargets(config),
    reader,
    onChange,
  );
}

export interface RunningWebhooks {
  readonly registry: WebhookRegistry;
  readonly delivery: WebhookDelivery;
  /** Starts delivering (once the server is up: a server that fails to start holds no lease). */
  start(): void;
  /** Stops delivering (requests in flight are aborted and sent again later) and frees the lease. */
  close(): Promise<void>;
}

export function createWebhooks(deps: {
  readonly connection: Pick<PostgresConnection, 'db' | 'connectionString'>;
  readonly reader: LogReader;
  readonly feed: LiveFeed;
  readonly metrics: StorylineMetrics;
  readonly logger: Logger;
  readonly config: WebhookConfig;
  /** How often endpoints are read again and the lease tried (tests shorten it). */
  readonly syncIntervalMs?: number;
}): RunningWebhooks {
  const { config, logger, metrics } = deps;
  const sender = new HttpWebhookSender({
    allowHttp: config.allowHttp,
    allowPrivate: config.allowPrivate,
    timeoutMs: config.timeoutMs,
  });
  const delivery = new WebhookDelivery(
    new PostgresWebhooks(deps.connection.db),
    deps.reader,
    sender,
    new PostgresDeliveryLease(deps.connection.connectionString),
    {
      maxFailures: config.maxFailures,
      retryBaseMs: config.retryBaseMs,
      retryMaxMs: config.retryMaxMs,
      ...(deps.syncIntervalMs === undefined ? {} : { syncIntervalMs: deps.syncIntervalMs }),
      onDelivered: (id) => metrics.observeWebhookDelivered(id),
      onFailed: (id, error, paused) => {
        metrics.observeWebhookFailed(id);
        if (paused) logger.warn({ webhook: id, error }, 'webhook paused after repeated failures');
        else logger.info({ webhook: id, error }, 'webhook delivery failed; will retry');
      },
      onError: (error) => logger.warn({ err: error }, 'webhook delivery'),
    },
  );
  const registry = createWebhookRegistry(deps.connection, deps.reader, config, () =>
    delivery.refresh(),
  );
  let stopWaking = (): void => undefined;
  let stopLag = (): void => undefined;
  return {
    registry,
    delivery,
    start() {
      stopWaking = deps.feed.listen(() => delivery.wake());
      stopLag = metrics.observeWebhookLag(registry);
      delivery.start();
    },
    async close() {
      stopWaking();
      stopLag();
      await delivery.close();
      sender.close();
    },
  };
}
