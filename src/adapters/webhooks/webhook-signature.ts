/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): a secret is `whsec_` plus
 * the base64 of random bytes; a signature is `v1,` plus the base64 of HMAC-SHA256, keyed with
 * those bytes, over `${webhook-id}.${webhook-timestamp}.${body}`.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const secretPrefix = 'whsec_';

/** 24 random bytes: the specification asks for between 24 and 64. */
export function newWebhookSecret(): string {
  return `${secretPrefix}${randomBytes(24).toString('base64')}`;
}

export function signWebhook(
  secret: string,
  messageId: string,
  timestampSeconds: number,
  body: string,
): string {
  const key = Buffer.from(secret.slice(secretPrefix.length), 'base64');
  const mac = createHmac('sha256', key).update(`${messageId}.${timestampSeconds}.${body}`);
  return `v1,${mac.digest('base64')}`;
}

/** The three headers of one attempt; the timestamp is the attempt's, not the event's. */
export function webhookHeaders(
  secret: string,
  messageId: string,
  body: string,
  now: Date,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(secret, messageId, timestamp, body),
  };
}
