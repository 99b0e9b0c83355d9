/**
 * What webhook delivery needs from the outside world: the endpoints and their cursors (storage),
 * a way to POST a signed event (the network), a check of a target URL (DNS and address rules),
 * and a lease that lets one process at a time deliver. Adapters implement them.
 */

export type WebhookState = 'active' | 'paused';

/** An endpoint as listed: everything but its signing secret. */
export interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  /** The stories whose events it receives; null for every story. */
  readonly stories: readonly string[] | null;
  readonly state: WebhookState;
  /** The last log position it has been given (delivered, or passed over as not its story). */
  readonly cursor: number;
  /** Failed attempts since the last delivery. */
  readonly failures: number;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
  readonly createdAt: string;
}

/** An endpoint as the delivery worker sees it: with the secret it signs with. */
export interface WebhookTarget extends WebhookEndpoint {
  readonly secret: string;
}

export interface NewWebhook {
  readonly url: string;
  readonly stories: readonly string[] | null;
  /** The position to start after: the log's head, or earlier to be sent the past too. */
  readonly cursor: number;
}

export interface WebhookStore {
  /** Stores a new endpoint with a fresh secret; the answer is the only place it is shown. */
  create(
    webhook: NewWebhook,
  ): Promise<{ readonly endpoint: WebhookEndpoint; readonly secret: string }>;
  /** Every endpoint, oldest first. */
  list(): Promise<readonly WebhookEndpoint[]>;
  /** Whether there was one to remove. */
  remove(id: string): Promise<boolean>;
  /** Makes a paused endpoint active with no failures counted; null when there is none. */
  resume(id: string): Promise<WebhookEndpoint | null>;
  /** The active endpoints, with their secrets. */
  active(): Promise<readonly WebhookTarget[]>;
  /**
   * Moves the cursor from `from` to `to` and clears the failures, only if the endpoint still
   * exists, is active and is still at `from`; whether it did.
   */
  advance(id: string, from: number, to: number): Promise<boolean>;
  /**
   * Records a failed attempt at the position after `cursor` (only if the endpoint is still active
   * there): the count of failures, the error, and, with `pause`, pauses it. Whether it did.
   */
  recordFailure(
    id: string,
    cursor: number,
    failure: { readonly failures: number; readonly error: string; readonly pause: boolean },
  ): Promise<boolean>;
}

/** One signed POST of one event's envelope. */
export interface WebhookRequest {
  readonly url: string;
  readonly secret: string;
  /** The event id: the `webhook-id` a receiver deduplicates by. */
  readonly messageId: string;
  readonly body: string;
}

export type WebhookOutcome =
  | { readonly delivered: true; readonly status: number }
  | { readonly delivered: false; readonly error: string };

export interface WebhookSender {
  /** Never throws: a failure of any kind (refused target, network, timeout, non-2xx) is an outcome. */
  send(request: WebhookRequest, signal: AbortSignal): Promise<WebhookOutcome>;
}

/** Checks a target URL before it is registered; throws `webhook_target_refused` if it may not be. */
export interface WebhookTargetCheck {
  check(url: string): Promise<void>;
}

/**
 * The right to deliver, held by one process at a time. When the holder dies (or loses its
 * database connection) the lease is freed and another process can take it.
 */
export interface DeliveryLease {
  /** Takes the lease if it is free (true), or confirms this process still holds it. */
  tryAcquire(onLost: () => void): Promise<boolean>;
  /** Gives it up and closes what it holds. */
  release(): Promise<void>;
}
