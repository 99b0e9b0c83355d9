/** Reads a Server-Sent Events stream with fetch, parsing messages as they arrive. */

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
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = new Map<string, string>();
        for (const line of block.split('\n')) {
          if (line.startsWith(':') || line === '') continue;
          const colon = line.indexOf(':');
          fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
        }
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
