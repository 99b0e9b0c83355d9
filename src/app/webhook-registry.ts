/**
 * Registering, listing, removing and resuming webhook endpoints: the use cases behind
 * `storyline webhooks …` and `/v1/webhooks`.
 */
import { StorylineError } from '../domain/errors.ts';
import { storyIdSchema } from '../domain/event-types.ts';
import type { LogReader } from './ports.ts';
import type { WebhookEndpoint, WebhookStore, WebhookTargetCheck } from './webhook-ports.ts';

/** An endpoint with how far it is behind the log's head. */
export interface WebhookListing extends WebhookEndpoint {
  /** Events in the log after the cursor (its stories' or not: the cursor passes over others). */
  readonly lag: number;
}

export interface WebhookRegistration {
  readonly url: string;
  readonly stories?: readonly string[] | undefined;
  /** Start after this position instead of the head (0: the whole log). */
  readonly after?: number | undefined;
}

export const webhookIdPattern = /^wh_[A-Za-z0-9_-]{1,64}$/;

export class WebhookRegistry {
  readonly #store: WebhookStore;
  readonly #targets: WebhookTargetCheck;
  readonly #reader: Pick<LogReader, 'logInfo'>;
  readonly #onChange: () => void;

  constructor(
    store: WebhookStore,
    targets: WebhookTargetCheck,
    reader: Pick<LogReader, 'logInfo'>,
    /** Told of an endpoint added or resumed (the local worker looks at once). */
    onChange: () => void = () => undefined,
  ) {
    this.#store = store;
    this.#targets = targets;
    this.#reader = reader;
    this.#onChange = onChange;
  }

  async add(
    registration: WebhookRegistration,
  ): Promise<{ readonly endpoint: WebhookEndpoint; readonly secret: string }> {
    const stories = registration.stories ?? [];
    const bad = stories.find((storyId) => !storyIdSchema.safeParse(storyId).success);
    if (bad !== undefined) throw new StorylineError('invalid_request', `bad story id "${bad}"`);
    await this.#targets.check(registration.url);
    const { head } = await this.#reader.logInfo();
    const after = registration.after ?? head;
    if (!Number.isSafeInteger(after) || after < 0 || after > head) {
      throw new StorylineError(
        'position_out_of_range',
        `after must be a position from 0 to the head (${head})`,
        { head },
      );
    }
    const created = await this.#store.create({
      url: registration.url,
      stories: stories.length === 0 ? null : [...new Set(stories)],
      cursor: after,
    });
    this.#onChange();
    return created;
  }

  async list(): Promise<readonly WebhookListing[]> {
    const [endpoints, { head }] = await Promise.all([this.#store.list(), this.#reader.logInfo()]);
    return endpoints.map((endpoint) => ({ ...endpoint, lag: Math.max(head - endpoint.cursor, 0) }));
  }

  async remove(id: string): Promise<void> {
    if (!webhookIdPattern.test(id) || !(await this.#store.remove(id))) throw notFound(id);
  }

  async resume(id: string): Promise<WebhookEndpoint> {
    const endpoint = webhookIdPattern.test(id) ? await this.#store.resume(id) : null;
    if (endpoint === null) throw notFound(id);
    this.#onChange();
    return endpoint;
  }
}

const notFound = (id: string) =>
  new StorylineError(
    'webhook_not_found',
    'no webhook has that id (see `storyline webhooks list`)',
    {
      id: id.slice(0, 80),
    },
  );
