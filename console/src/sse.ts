/** One message of a text/event-stream: its `id:` (when it has one), `event:` (default `message`) and `data:` lines. */
export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/**
 * The messages of a text/event-stream body, a batch per read (what arrived together is handled
 * together); comment lines are dropped. Ends when the body ends; throws when reading it fails
 * (a lost connection, or the fetch aborted). Lines end with LF or CRLF (the API sends LF).
 */
export async function* sseBatches(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      // Normalized on the whole buffer, so a CRLF split between two reads is still one line end.
      buffered = (buffered + decoder.decode(value, { stream: true })).replace(/\r\n/g, '\n');
      const blocks = buffered.split('\n\n');
      buffered = blocks.pop() ?? '';
      const messages = blocks.map(messageOf).filter((m): m is SseMessage => m !== undefined);
      if (messages.length) yield messages;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** A block's message; undefined for a block of comments only (`: keep-alive`). */
function messageOf(block: string): SseMessage | undefined {
  const message: SseMessage = { event: 'message', data: '' };
  const data: string[] = [];
  let fields = 0;
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') message.id = value;
    else if (field === 'event') message.event = value;
    else if (field === 'data') data.push(value);
    else continue;
    fields++;
  }
  return fields ? { ...message, data: data.join('\n') } : undefined;
}
