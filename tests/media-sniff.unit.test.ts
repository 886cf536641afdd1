// Sniffing and probing uploads in pure TypeScript, against real files made by ffmpeg and
// ffprobe's own figures; hostile bytes never throw.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inspectMedia, MediaInspector, probeMedia, sniffMedia } from "../packages/shared/src/media-sniff";

function make(name: string, args: string[]): Uint8Array {
  const file = `/tmp/reelforge-sniff-${process.pid}-${name}`;
  execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", ...args, file]);
  return new Uint8Array(readFileSync(file)); // a copy: Buffer.slice would share bytes
}
const concat = (...parts: (Uint8Array | string)[]) => new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : p))));

/** The inspection of `bytes` pushed in pieces of the given sizes (cycled). */
function inspectInPieces(bytes: Uint8Array, sizes: number[]) {
  const inspector = new MediaInspector();
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length]);
    inspector.push(bytes.slice(at, at + n));
    at += n;
  }
  return inspector.finish();
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
      if (want.kind === "audio") expect(probed.sampleRate).toBe(44100);
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

  it("a playlist is refused wherever it is: before MP3 frames, inside an MP3, after an MP4", () => {
    const mp3 = make("frames.mp3", tone(1, ["-c:a", "libmp3lame", "-b:a", "128k", "-write_xing", "0", "-id3v2_version", "0"]));
    expect(sniffMedia(mp3)?.mime).toBe("audio/mpeg");
    // The attack of issue 26: an HLS playlist, then three MP3 frames (ffmpeg probes it as HLS).
    const playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/hostname\n#EXT-X-ENDLIST\n";
    expect(inspectMedia(concat(playlist, mp3.slice(0, 3 * 417)))).toEqual({ refused: expect.stringMatching(/^not a supported/) });
    expect(inspectMedia(concat(mp3.slice(0, 4180), playlist, mp3.slice(4180)))).toEqual({ refused: expect.stringMatching(/playlist/) });
    expect(inspectMedia(concat(mp3.slice(0, 4180), "hello", mp3.slice(4180)))).toEqual({ refused: expect.stringMatching(/^not an MP3 from start to end: something other than MPEG audio frames at byte/) });
    const mp4 = make("pl.mp4", clip("64x64", 0.5));
    expect(inspectMedia(concat(mp4, playlist))).toEqual({ refused: expect.stringMatching(/playlist/) });
    // An ID3v1 tag may end an MP3.
    expect(sniffMedia(concat(mp3, "TAG", new Uint8Array(125)))?.mime).toBe("audio/mpeg");
  });

  it("a file pushed in pieces of any size is inspected exactly as the whole file", () => {
    const real = Object.entries(files).map(([name, [args]]) => {
      const file = `/tmp/reelforge-sniff-${process.pid}-${name}`;
      return existsSync(file) ? new Uint8Array(readFileSync(file)) : make(name, [...args]);
    });
    fc.assert(fc.property(fc.nat(real.length - 1), fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }), (which, sizes) => {
      expect(inspectInPieces(real[which], sizes)).toEqual(inspectMedia(real[which]));
    }), { numRuns: 60 });
  });
});

