// The streamed multipart/form-data reader (uploads and the Storage stand-in): every part comes
// out as it went in, whatever the chunking, with what storage-js sends (an empty field name).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { multipartBoundary, partText, readMultipart } from "../packages/shared/src/multipart";

/** The body of `form` as fetch would send it, cut into pieces of the given sizes. */
async function chunked(form: FormData, sizes: number[]) {
  const res = new Response(form);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const pieces: Uint8Array[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length]);
    pieces.push(bytes.slice(at, at + n));
    at += n;
  }
  return { boundary: multipartBoundary(res.headers.get("content-type"))!, body: new Blob(pieces).stream() };
}

describe("readMultipart", () => {
  it("gives back every part, names, file names, types and bytes, whatever the chunking", async () => {
    // Bytes that look like the start of a delimiter, in the file and at chunk edges.
    const tricky = fc.uint8Array({ maxLength: 3000 }).map((b) => new Uint8Array([...b, 13, 10, 45, 45, ...b.slice(0, 7), 13, 10]));
    await fc.assert(fc.asyncProperty(tricky, fc.string({ maxLength: 50 }), fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 6 }), async (file, text, sizes) => {
      const form = new FormData();
      form.append("cacheControl", "3600");
      form.append("", new Blob([file], { type: "image/png" }), "me.png");
      form.append("type", text);
      const { boundary, body } = await chunked(form, sizes);
      const parts = [];
      for await (const part of readMultipart(body, boundary)) {
        parts.push({ name: part.name, filename: part.filename, contentType: part.contentType, bytes: part.filename === null ? await partText(part) : new Uint8Array(await new Response(part.body).arrayBuffer()) });
      }
      expect(parts).toEqual([
        { name: "cacheControl", filename: null, contentType: "text/plain", bytes: "3600" },
        { name: "", filename: "me.png", contentType: "image/png", bytes: file },
        { name: "type", filename: null, contentType: "text/plain", bytes: text },
      ]);
    }), { numRuns: 150 });
  });

  it("a part left unread is skipped; a form cut short is an error", async () => {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(100_000)]), "a.bin");
    form.append("type", "video");
    const { boundary, body } = await chunked(form, [4096]);
    const names = [];
    for await (const part of readMultipart(body, boundary)) names.push(part.name);
    expect(names).toEqual(["file", "type"]);
    const bytes = new Uint8Array(await new Response(form).arrayBuffer());
    const cut = new Blob([bytes.slice(0, 5000)]).stream();
    await expect((async () => {
      for await (const part of readMultipart(cut, boundary)) await new Response(part.body).arrayBuffer();
    })()).rejects.toThrow(/ended early/);
  });
});
