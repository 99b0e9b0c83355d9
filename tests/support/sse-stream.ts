/** Reads a Server-Sent Events stream with fetch, parsing messages as they arrive. */
import { sseFieldReader } from './sse-fields.ts';

export interface SseMessage {
  readonly id: string | null;
  readonly event: string;
  readonly data: any;
}

export interface EventStream {
  readonly messages: SseMessage[];
  status(): number;
  of(event: string): SseMessage[];
  /** Whether the server ended the stream (or it failed). */
  ended(): boolean;
  close(): Promise<void>;
}

export function openEventStream(url: string, headers: Record<string, string> = {}): EventStream {
  const controller = new AbortController();
  const messages: SseMessage[] = [];
  let status = 0;
  let ended = false;
  const done = (async () => {
    const response = await fetch(url, { headers, signal: controller.signal });
    status = response.status;
    if (response.body === null) return;
    const read = sseFieldReader();
    for await (const chunk of response.body) {
      for (const fields of read(chunk)) {
        if (!fields.has('data')) continue;
        messages.push({
          id: fields.get('id') ?? null,
          event: fields.get('event') ?? 'message',
          data: JSON.parse(fields.get('data') ?? 'null'),
        });
      }
    }
  })()
    .catch(() => undefined)
    .finally(() => {
      ended = true;
    });
  return {
    messages,
    status: () => status,
    of: (event) => messages.filter((message) => message.event === event),
    ended: () => ended,
    close: async () => {
      controller.abort();
      await done;
    },
  };
}
