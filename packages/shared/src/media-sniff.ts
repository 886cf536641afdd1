// What an uploaded file is, read from its bytes (never its name or declared type), and what
// can be probed without ffmpeg (edge functions have none): image dimensions, audio and
// video durations, video dimensions. Never throws and never reads out of bounds: a
// malformed file yields what could be read.

export type MediaKind = "image" | "audio" | "video";
export type Sniffed = { kind: MediaKind; mime: string; ext: string };
export type Probed = { width?: number; height?: number; durationSeconds?: number };

/** Size limits per kind of asset (the `assets` bucket takes up to 50 MB). */
export const MAX_ASSET_BYTES: Record<MediaKind, number> = { image: 10 * 1024 * 1024, audio: 20 * 1024 * 1024, video: 50 * 1024 * 1024 };

const ascii = (b: Uint8Array, at: number, n: number) => (at + n <= b.length ? String.fromCharCode(...b.subarray(at, at + n)) : "");
const u16be = (b: Uint8Array, at: number) => (at + 2 <= b.length ? (b[at] << 8) | b[at + 1] : 0);
const u16le = (b: Uint8Array, at: number) => (at + 2 <= b.length ? b[at] | (b[at + 1] << 8) : 0);
const u24le = (b: Uint8Array, at: number) => (at + 3 <= b.length ? b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) : 0);
const u32be = (b: Uint8Array, at: number) => (at + 4 <= b.length ? ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) : 0);
const u32le = (b: Uint8Array, at: number) => (at + 4 <= b.length ? ((b[at + 3] << 24) >>> 0) + ((b[at + 2] << 16) | (b[at + 1] << 8) | b[at]) : 0);
const u64be = (b: Uint8Array, at: number) => u32be(b, at) * 2 ** 32 + u32be(b, at + 4);

// ---------------------------------------------------------------- MPEG audio (MP3)

const BITRATES: Record<string, number[]> = {
  "1": [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  "2": [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/** A Layer III frame header at `at`: its length in bytes and samples, or null. */
function mp3Frame(b: Uint8Array, at: number): { bytes: number; samples: number; rate: number; mpeg1: boolean; mono: boolean } | null {
  if (at + 4 > b.length || b[at] !== 0xff || (b[at + 1] & 0xe0) !== 0xe0) return null;
  const version = (b[at + 1] >> 3) & 3; // 3: MPEG1, 2: MPEG2, 0: MPEG2.5
  const layer = (b[at + 1] >> 1) & 3; // 1: Layer III
  const bitrateIndex = b[at + 2] >> 4;
  const rateIndex = (b[at + 2] >> 2) & 3;
  if (version === 1 || layer !== 1 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return null;
  const mpeg1 = version === 3;
  const rate = SAMPLE_RATES[version][rateIndex];
  const samples = mpeg1 ? 1152 : 576;
  const bytes = Math.floor((samples / 8) * BITRATES[mpeg1 ? "1" : "2"][bitrateIndex] * 1000 / rate) + ((b[at + 2] >> 1) & 1);
  return bytes > 4 ? { bytes, samples, rate, mpeg1, mono: (b[at + 3] >> 6) === 3 } : null;
}

/** Where MPEG audio starts: after an ID3v2 tag, at three frames in a row. */
function mp3Start(b: Uint8Array): number | null {
  let at = 0;
  if (ascii(b, 0, 3) === "ID3") at = 10 + ((b[6] & 0x7f) << 21 | (b[7] & 0x7f) << 14 | (b[8] & 0x7f) << 7 | (b[9] & 0x7f));
  for (const limit = Math.min(b.length, at + 4096); at < limit; at++) {
    let next = at;
    let frames = 0;
    for (let f = mp3Frame(b, next); f && frames < 3; f = mp3Frame(b, next)) {
      frames++;
      next += f.bytes;
    }
    if (frames === 3 || (frames > 0 && next === b.length)) return at;
  }
  return null;
}

function mp3Duration(b: Uint8Array, start: number): number | undefined {
  const first = mp3Frame(b, start);
  if (!first) return undefined;
  // A Xing/Info (VBR) header in the first frame counts the frames.
  const side = first.mpeg1 ? (first.mono ? 17 : 32) : (first.mono ? 9 : 17);
  const xing = start + 4 + side;
  if (["Xing", "Info"].includes(ascii(b, xing, 4)) && (u32be(b, xing + 4) & 1)) {
    return (u32be(b, xing + 8) * first.samples) / first.rate;
  }
  if (ascii(b, start + 36, 4) === "VBRI") return (u32be(b, start + 36 + 14) * first.samples) / first.rate;
  let seconds = 0;
  for (let at = start, f = first; f; at += f.bytes, f = mp3Frame(b, at)!) seconds += f.samples / f.rate;
  return seconds;
}

// ---------------------------------------------------------------- ISO BMFF (MP4, MOV, M4A)

type Box = { type: string; start: number; body: number; end: number };

/** The boxes directly inside [from, to). */
function boxes(b: Uint8Array, from: number, to: number): Box[] {
  const found: Box[] = [];
  for (let at = from; at + 8 <= to && found.length < 1000;) {
    let size = u32be(b, at);
    let body = at + 8;
    if (size === 1) {
      size = u64be(b, at + 8);
      body = at + 16;
    } else if (size === 0) size = to - at;
    if (size < body - at) break;
    const end = Math.min(at + size, to);
    found.push({ type: ascii(b, at + 4, 4), start: at, body, end });
    at += size;
  }
  return found;
}
const child = (b: Uint8Array, box: Box | undefined, type: string) => (box ? boxes(b, box.body, box.end).find((x) => x.type === type) : undefined);

function bmffTracks(b: Uint8Array) {
  const moov = boxes(b, 0, b.length).find((x) => x.type === "moov");
  const tracks = moov ? boxes(b, moov.body, moov.end).filter((x) => x.type === "trak") : [];
  return {
    moov,
    tracks: tracks.map((trak) => {
      const hdlr = child(b, child(b, trak, "mdia"), "hdlr");
      const tkhd = child(b, trak, "tkhd");
      // tkhd: width and height (16.16 fixed point) are its last 8 bytes.
      return { handler: hdlr ? ascii(b, hdlr.body + 8, 4) : "", width: tkhd ? u32be(b, tkhd.end - 8) / 65536 : 0, height: tkhd ? u32be(b, tkhd.end - 4) / 65536 : 0 };
    }),
  };
}

function mvhdSeconds(b: Uint8Array, moov: Box | undefined): number | undefined {
  const mvhd = child(b, moov, "mvhd");
  if (!mvhd) return undefined;
  const v1 = b[mvhd.body] === 1;
  const timescale = u32be(b, mvhd.body + (v1 ? 20 : 12));
  const duration = v1 ? u64be(b, mvhd.body + 24) : u32be(b, mvhd.body + 16);
  return timescale ? duration / timescale : undefined;
}

// ---------------------------------------------------------------- images

function jpegSize(b: Uint8Array): Probed {
  for (let at = 2; at + 9 < b.length;) {
    if (b[at] !== 0xff) return {};
    const marker = b[at + 1];
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) return { height: u16be(b, at + 5), width: u16be(b, at + 7) };
    at += 2 + u16be(b, at + 2);
  }
  return {};
}

function webpSize(b: Uint8Array): Probed {
  const chunk = ascii(b, 12, 4);
  if (chunk === "VP8 ") return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  if (chunk === "VP8L" && b.length >= 25) {
    const bits = u32le(b, 21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (chunk === "VP8X") return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  return {};
}

// ---------------------------------------------------------------- the two entry points

export function sniffMedia(b: Uint8Array): Sniffed | null {
  if (ascii(b, 0, 8) === "\x89PNG\r\n\x1a\n") return { kind: "image", mime: "image/png", ext: "png" };
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { kind: "image", mime: "image/jpeg", ext: "jpg" };
  if (ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 4) === "WEBP") return { kind: "image", mime: "image/webp", ext: "webp" };
  if (ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 4) === "WAVE") return { kind: "audio", mime: "audio/wav", ext: "wav" };
  if (ascii(b, 4, 4) === "ftyp") {
    const brand = ascii(b, 8, 4);
    const { tracks } = bmffTracks(b);
    const video = tracks.some((t) => t.handler === "vide");
    if (brand === "M4A " || (!video && tracks.some((t) => t.handler === "soun"))) return { kind: "audio", mime: "audio/mp4", ext: "m4a" };
    if (brand === "qt  ") return { kind: "video", mime: "video/quicktime", ext: "mov" };
    return { kind: "video", mime: "video/mp4", ext: "mp4" };
  }
  if (mp3Start(b) !== null) return { kind: "audio", mime: "audio/mpeg", ext: "mp3" };
  return null;
}

export function probeMedia(b: Uint8Array, sniffed: Sniffed): Probed {
  switch (sniffed.ext) {
    case "png":
      return ascii(b, 12, 4) === "IHDR" ? { width: u32be(b, 16), height: u32be(b, 20) } : {};
    case "jpg":
      return jpegSize(b);
    case "webp":
      return webpSize(b);
    case "wav": {
      const chunks = boxesLe(b);
      const fmt = chunks.find((c) => c.id === "fmt ");
      const data = chunks.find((c) => c.id === "data");
      const byteRate = fmt ? u32le(b, fmt.body + 8) : 0;
      return byteRate && data ? { durationSeconds: data.size / byteRate } : {};
    }
    case "mp3": {
      const start = mp3Start(b);
      return start === null ? {} : { durationSeconds: mp3Duration(b, start) };
    }
    default: {
      const { moov, tracks } = bmffTracks(b);
      const video = tracks.find((t) => t.handler === "vide");
      return { durationSeconds: mvhdSeconds(b, moov), ...(video ? { width: Math.round(video.width), height: Math.round(video.height) } : {}) };
    }
  }
}

/** RIFF chunks (little-endian sizes, padded to even). */
function boxesLe(b: Uint8Array): { id: string; body: number; size: number }[] {
  const found = [];
  for (let at = 12; at + 8 <= b.length && found.length < 1000;) {
    const size = u32le(b, at + 4);
    found.push({ id: ascii(b, at, 4), body: at + 8, size });
    at += 8 + size + (size & 1);
  }
  return found;
}
