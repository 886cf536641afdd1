// multipart/form-data read as it streams: each part's body is a stream of its own, so a 50 MB
// file goes on to Storage chunk by chunk instead of being held whole (Request.formData() holds
// every part in memory, and drops parts with an empty name, which storage-js sends).
// Used by the assets function and by the local Storage stand-in.

export type FormPart = {
  /** The part's field name ("" for the file storage-js sends). */
  name: string;
  /** Its file name, null for a plain field. */
  filename: string | null;
  contentType: string;
  /** Read it (or not) before asking for the next part: what is left is skipped. */
  body: ReadableStream<Uint8Array>;
};

export class MultipartError extends Error {}

const MAX_HEADER_BYTES = 8 * 1024;
const MAX_PARTS = 20;
const CRLF = new Uint8Array([13, 10]);

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  for (let at = haystack.indexOf(needle[0], from); at !== -1 && at + needle.length <= haystack.length; at = haystack.indexOf(needle[0], at + 1)) {
    let i = 1;
    while (i < needle.length && haystack[at + i] === needle[i]) i++;
    if (i === needle.length) return at;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The boundary of a multipart/form-data content type, or null. */
export function multipartBoundary(contentType: string | null | undefined): string | null {
  const m = /^multipart\/form-data\s*;(?:.*;)?\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType ?? "");
  return m ? (m[1] ?? m[2]) : null;
}

function partHeaders(text: string): Omit<FormPart, "body"> {
  const headers = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const disposition = headers.get("content-disposition") ?? "";
  if (!/^form-data\b/i.test(disposition)) throw new MultipartError("a part has no form-data disposition");
  const param = (key: string) => new RegExp(`;\\s*${key}="((?:[^"\\\\]|\\\\.)*)"`, "i").exec(disposition)?.[1].replace(/\\(.)/g, "$1") ?? null;
  return { name: param("name") ?? "", filename: param("filename"), contentType: headers.get("content-type") ?? (param("filename") === null ? "text/plain" : "application/octet-stream") };
}

/** The parts of a multipart/form-data body, one at a time, as they arrive. */
export async function* readMultipart(body: ReadableStream<Uint8Array>, boundary: string): AsyncGenerator<FormPart> {
  const reader = body.getReader();
  const delimiter = new TextEncoder().encode(`\r\n--${boundary}`);
  // The first delimiter has no CRLF before it: pretend it had.
  let buf: Uint8Array = CRLF;
  let ended = false;
  // Body bytes known to hold no delimiter start, handed out before `buf`.
  let clearTail: Uint8Array | null = null;
  /** Reads on. Inside a part's body the few bytes kept from the last chunk are joined to the
   * next one only when a delimiter straddles the two: a file passes without being copied. */
  const more = async (inBody = false) => {
    if (ended) throw new MultipartError("the form ended early");
    const { value, done } = await reader.read();
    if (done) ended = true;
    else if (buf.length === 0) buf = value;
    else if (inBody && value.length >= delimiter.length - 1 && indexOf(concat(buf, value.subarray(0, delimiter.length - 1)), delimiter) === -1) {
      clearTail = buf;
      buf = value;
    } else buf = concat(buf, value);
  };

  try {
    // Skip the preamble, up to and including the first delimiter.
    for (let at = indexOf(buf, delimiter); ; at = indexOf(buf, delimiter)) {
      if (at !== -1) {
        buf = buf.subarray(at + delimiter.length);
        break;
      }
      buf = buf.subarray(Math.max(0, buf.length - delimiter.length));
      await more();
    }
    for (let parts = 0; ; parts++) {
      while (buf.length < 2) await more();
      if (buf[0] === 45 && buf[1] === 45) return; // "--": the closing delimiter
      let headerEnd: number;
      while ((headerEnd = indexOf(buf, new Uint8Array([13, 10, 13, 10]))) === -1) {
        if (buf.length > MAX_HEADER_BYTES) throw new MultipartError("a part's headers are too long");
        await more();
      }
      if (parts >= MAX_PARTS) throw new MultipartError(`a form has at most ${MAX_PARTS} parts`);
      const head = partHeaders(new TextDecoder().decode(buf.subarray(2, headerEnd)));
      buf = buf.subarray(headerEnd + 4);
      let partDone = false;
      // Hands out everything before the next delimiter, keeping a tail that may be its start.
      const nextChunk = async (): Promise<Uint8Array | null> => {
        while (!partDone) {
          if (clearTail) {
            const tail = clearTail;
            clearTail = null;
            return tail;
          }
          const at = indexOf(buf, delimiter);
          if (at !== -1) {
            const chunk = buf.subarray(0, at);
            buf = buf.subarray(at + delimiter.length);
            partDone = true;
            return chunk;
          }
          const safe = buf.length - delimiter.length + 1;
          if (safe > 0) {
            const chunk = buf.subarray(0, safe);
            buf = buf.subarray(safe);
            return chunk;
          }
          await more(true);
        }
        return null;
      };
      const partBody = new ReadableStream<Uint8Array>({
        async pull(controller) {
          let chunk: Uint8Array | null;
          do chunk = await nextChunk(); while (chunk?.length === 0);
          if (chunk === null) controller.close();
          else controller.enqueue(chunk);
        },
      }, { highWaterMark: 4 });
      yield { ...head, body: partBody };
      while (await nextChunk() !== null) { /* what the caller left unread */ }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** A plain field's text, at most `maxBytes`. */
export async function partText(part: FormPart, maxBytes = 64 * 1024): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of part.body) {
    if ((size += chunk.length) > maxBytes) throw new MultipartError(`the field ${part.name} is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return new TextDecoder().decode(chunks.reduce(concat, new Uint8Array(0)));
}
