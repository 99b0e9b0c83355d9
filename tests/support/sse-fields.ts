/**
 * Splits a Server-Sent Events byte stream into its messages, chunk by chunk: each message as its
 * fields by name (comment lines dropped, one space after the colon trimmed). Shared by the tests'
 * event-stream reader and the soak's SSE subscribers.
 */
export function sseFieldReader(): (chunk: Uint8Array) => Map<string, string>[] {
  const decoder = new TextDecoder();
  let buffer = '';
  return (chunk) => {
    buffer += decoder.decode(chunk, { stream: true });
    const messages: Map<string, string>[] = [];
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
      messages.push(fields);
    }
    return messages;
  };
}
