/**
 * Sends one signed webhook: a POST of the event's envelope with the Standard Webhooks headers.
 *
 * - Every connection resolves its host through `guardedLookup` and connects only to addresses it
 *   checked; an IP-literal host (which Node does not look up) is checked here first.
 * - Redirects are not followed (a 3xx is a failure): a redirect could point anywhere.
 * - Each attempt has a deadline, connection to last byte; a response body is read only up to a
 *   small cap (for the error message), and the rest is never read.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { WebhookOutcome, WebhookRequest, WebhookSender } from '../../app/webhook-ports.ts';
import { isStorylineError } from '../../domain/errors.ts';
import { webhookHeaders } from './webhook-signature.ts';
import {
  checkAddress,
  guardedLookup,
  hostOf,
  parseTarget,
  type TargetPolicy,
} from './webhook-targets.ts';

export interface SenderOptions extends TargetPolicy {
  /** The deadline of one attempt, from connecting to the end of the response. */
  readonly timeoutMs: number;
  /** Bytes of a response body kept for the error message; the rest is not read. */
  readonly maxResponseBytes?: number;
  readonly now?: () => Date;
}

export const webhookUserAgent = 'Storyline-Webhooks/1';

export class HttpWebhookSender implements WebhookSender {
  readonly #options: SenderOptions;
  readonly #lookup: ReturnType<typeof guardedLookup>;
  readonly #maxResponseBytes: number;
  readonly #now: () => Date;
  // Connections are kept for the next event to the same endpoint: a stream of events costs one
  // handshake, not one each. Each new connection is resolved and checked again.
  readonly #httpAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  readonly #httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 4 });

  constructor(options: SenderOptions) {
    this.#options = options;
    this.#lookup = guardedLookup(options);
    this.#maxResponseBytes = options.maxResponseBytes ?? 1024;
    this.#now = options.now ?? (() => new Date());
  }

  async send(request: WebhookRequest, signal: AbortSignal): Promise<WebhookOutcome> {
    let target: URL;
    try {
      target = parseTarget(request.url, this.#options);
      const host = hostOf(target);
      if (isIP(host) !== 0) checkAddress(host, host, this.#options);
    } catch (error) {
      return { delivered: false, error: describe(error) };
    }
    const deadline = AbortSignal.timeout(this.#options.timeoutMs);
    const aborted = AbortSignal.any([signal, deadline]);
    const body = Buffer.from(request.body);
    const headers = {
      'Content-Type': 'application/json',
      'Content-Length': String(body.byteLength),
      'User-Agent': webhookUserAgent,
      ...webhookHeaders(request.secret, request.messageId, request.body, this.#now()),
    };
    const isHttps = target.protocol === 'https:';
    return new Promise<WebhookOutcome>((resolve) => {
      let settled = false;
      const settle = (outcome: WebhookOutcome) => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
      const failed = (error: unknown) =>
        settle({
          delivered: false,
          error: deadline.aborted
            ? `no answer within ${this.#options.timeoutMs} ms`
            : signal.aborted
              ? 'stopped'
              : describe(error),
        });
      const outgoing = (isHttps ? https : http).request(
        target,
        {
          method: 'POST',
          headers,
          agent: isHttps ? this.#httpsAgent : this.#httpAgent,
          lookup: this.#lookup,
          signal: aborted,
        },
        (response) => {
          const status = response.statusCode ?? 0;
          const chunks: Buffer[] = [];
          let kept = 0;
          const finish = () => {
            if (status >= 200 && status < 300) {
              settle({ delivered: true, status });
              return;
            }
            const text = Buffer.concat(chunks).toString('utf8').slice(0, 200);
            settle({
              delivered: false,
              error: `HTTP ${status}${text.trim() === '' ? '' : `: ${printable(text)}`}`,
            });
          };
          response.on('data', (chunk: Buffer) => {
            if (kept < this.#maxResponseBytes) {
              chunks.push(chunk.subarray(0, this.#maxResponseBytes - kept));
              kept += chunk.byteLength;
            }
            // Past the cap the rest is not read: the answer is known, and the connection goes.
            if (kept >= this.#maxResponseBytes) {
              finish();
              response.destroy();
            }
          });
          response.on('end', finish);
          response.on('error', failed);
          response.on('close', finish);
        },
      );
      outgoing.on('error', failed);
      outgoing.end(body);
    });
  }

  close(): void {
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }
}

/** An error as one short line for `webhooks list`, never a stack. */
function describe(error: unknown): string {
  if (isStorylineError(error)) return `refused: ${error.message}`;
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const refusal = (error as { cause?: unknown }).cause;
    if (isStorylineError(refusal)) return `refused: ${refusal.message}`;
    return printable(code === undefined ? error.message : `${code}: ${error.message}`);
  }
  return 'failed';
}

function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001F\u007F]+/g, ' ').slice(0, 300);
}
