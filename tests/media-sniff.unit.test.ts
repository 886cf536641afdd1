// Sniffing and probing uploads in pure TypeScript, against real files made by ffmpeg and
// ffprobe's own figures; hostile bytes never throw.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { probeMedia, sniffMedia } from "../packages/shared/src/media-sniff";

function make(name: string, args: string[]): Uint8Array {
  const file = `/tmp/reelforge-sniff-${process.pid}-${name}`;
  execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", ...args, file]);
  return new Uint8Array(readFileSync(file)); // a copy: Buffer.slice would share bytes
}
function ffprobeDuration(name: string): number {
  return Number(execFileSync("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", `/tmp/reelforge-sniff-${process.pid}-${name}`], { encoding: "utf8" }));
}
const still = (size: string, extra: string[] = []) => ["-f", "lavfi", "-i", `testsrc=size=${size}`, "-frames:v", "1", ...extra];
const tone = (seconds: number, extra: string[]) => ["-f", "lavfi", "-i", `sine=frequency=330:duration=${seconds}`, ...extra];
const clip = (size: string, seconds: number) => ["-f", "lavfi", "-i", `testsrc=size=${size}:rate=24`, "-t", String(seconds), "-pix_fmt", "yuv420p"];

const files = {
  "a.png": [still("333x517"), { kind: "image", mime: "image/png", width: 333, height: 517 }],
  "b.jpg": [still("333x517"), { kind: "image", mime: "image/jpeg", width: 333, height: 517 }],
  "c.jpg": [still("641x361", ["-pix_fmt", "yuvj444p", "-q:v", "3"]), { kind: "image", mime: "image/jpeg", width: 641, height: 361 }],
  "d.webp": [still("333x517", ["-c:v", "libwebp", "-lossless", "1"]), { kind: "image", mime: "image/webp", width: 333, height: 517 }],
  "e.webp": [still("334x518", ["-c:v", "libwebp"]), { kind: "image", mime: "image/webp", width: 334, height: 518 }],
  "cbr.mp3": [tone(3.2, ["-c:a", "libmp3lame", "-b:a", "128k"]), { kind: "audio", mime: "audio/mpeg" }],
  "vbr.mp3": [tone(4.5, ["-c:a", "libmp3lame", "-q:a", "4"]), { kind: "audio", mime: "audio/mpeg" }],
  "f.wav": [tone(2.5, []), { kind: "audio", mime: "audio/wav" }],
  "g.m4a": [tone(3, ["-c:a", "aac"]), { kind: "audio", mime: "audio/mp4" }],
  "h.mp4": [clip("720x1280", 2.5), { kind: "video", mime: "video/mp4", width: 720, height: 1280 }],
  "i.mov": [clip("320x240", 1.5), { kind: "video", mime: "video/quicktime", width: 320, height: 240 }],
} as const;

describe("sniffMedia and probeMedia", () => {
  for (const [name, [args, want]] of Object.entries(files)) {
    it(`${name}: ${want.mime}${"width" in want ? ` ${want.width}x${want.height}` : ""}`, () => {
      const bytes = make(name, [...args]);
      const sniffed = sniffMedia(bytes)!;
      expect(sniffed).toMatchObject({ kind: want.kind, mime: want.mime });
      const probed = probeMedia(bytes, sniffed);
      if ("width" in want) expect(probed).toMatchObject({ width: want.width, height: want.height });
      if (want.kind !== "image") expect(Math.abs(probed.durationSeconds! - ffprobeDuration(name))).toBeLessThan(0.06);
    });
  }

  it("text, a PDF, an HTML page, random bytes and nothing are not media; a disguised MP3 is audio", () => {
    for (const text of ["hello world", "%PDF-1.7\n...", "<!doctype html><html></html>", ""]) {
      expect(sniffMedia(new TextEncoder().encode(text))).toBeNull();
    }
    expect(sniffMedia(new Uint8Array(4096).map((_, i) => (i * 7919) % 251))).toBeNull();
    expect(sniffMedia(make("disguised.png", tone(1, ["-c:a", "libmp3lame", "-f", "mp3"])))?.kind).toBe("audio");
  });

  it("never throws on arbitrary bytes or on damaged real files", () => {
    const real = [make("fz.mp4", clip("64x64", 0.5)), make("fz.mp3", tone(0.5, ["-c:a", "libmp3lame"])), make("fz.png", still("64x64"))];
    const check = (bytes: Uint8Array) => {
      const s = sniffMedia(bytes);
      if (s) probeMedia(bytes, s);
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (b) => check(b)), { numRuns: 500 });
    fc.assert(fc.property(fc.nat(2), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 20 }), fc.nat(), (which, edits, cut) => {
      const b = real[which].slice(0, Math.max(8, cut % real[which].length + 1));
      for (const [at, v] of edits) b[at % b.length] = v;
      check(b);
    }), { numRuns: 300 });
    expect(probeMedia(real[0].slice(0, 40), sniffMedia(real[0].slice(0, 40))!)).toEqual({ durationSeconds: undefined });
  });
});
