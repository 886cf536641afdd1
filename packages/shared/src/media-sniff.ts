// What an uploaded file is, read from its bytes (never its name or declared type), and what
// can be probed without ffmpeg (edge functions have none): image dimensions, audio and
// video durations, video dimensions. Never throws and never reads out of bounds: a
// malformed file yields what could be read.

export type MediaKind = "image" | "audio" | "video";
export type Sniffed = { kind: MediaKind; mime: string; ext: string };
export type Probed = { width?: number; height?: number; durationSeconds?: number; sampleRate?: number };

/** Size limits per kind of asset (the `assets` bucket takes up to 50 MB). */
export const MAX_ASSET_BYTES: Record<MediaKind, number> = { image: 10 * 1024 * 1024, audio: 20 * 1024 * 1024, video: 50 * 1024 * 1024 };

/** Audio is 8 to 192 kHz and lasts at least a second: a header declaring 10 MHz made ffmpeg
 * resample for hours (issue 26), and a blip would be looped thousands of times as music. */
export const AUDIO_SAMPLE_RATES = { min: 8000, max: 192000 } as const;
export const MIN_AUDIO_SECONDS = 1;

/** Images larger than this on a side are refused (no provider takes them; a PNG header may
 * declare 2^32-1 x 2^32-1). */
export const MAX_IMAGE_SIDE = 16384;

/** Why audio with these facts is refused, or null. */
function audioRefusal(probed: Probed): string | null {
  const { sampleRate: rate, durationSeconds: seconds } = probed;
  if (!rate || rate < AUDIO_SAMPLE_RATES.min || rate > AUDIO_SAMPLE_RATES.max) {
    return `its sample rate is ${rate ? `${rate} Hz` : "unknown"}; audio must be ${AUDIO_SAMPLE_RATES.min / 1000} to ${AUDIO_SAMPLE_RATES.max / 1000} kHz`;
  }
  if (!seconds || seconds < MIN_AUDIO_SECONDS) return `it lasts ${seconds ? `${+seconds.toPrecision(2)} s` : "an unknown time"}; audio must last at least ${MIN_AUDIO_SECONDS} s`;
  return null;
}

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

/** Where an ID3v2 tag ends (0 without one). */
const id3End = (b: Uint8Array) => (ascii(b, 0, 3) === "ID3" ? 10 + ((b[6] & 0x7f) << 21 | (b[7] & 0x7f) << 14 | (b[8] & 0x7f) << 7 | (b[9] & 0x7f)) : 0);

/** Where MPEG audio starts: right at the start or right after an ID3v2 tag, with three frames
 * in a row (or frames to the end). Nothing else may come first: ffmpeg's probe would read a
 * playlist or other text put before the frames. */
function mp3Start(b: Uint8Array): number | null {
  const at = id3End(b);
  let next = at;
  let frames = 0;
  for (let f = mp3Frame(b, next); f && frames < 3; f = mp3Frame(b, next)) {
    frames++;
    next += f.bytes;
  }
  return frames === 3 || (frames > 0 && next >= b.length) ? at : null;
}

/** The duration a VBR header (Xing/Info or VBRI) in the first frame declares, if any. */
function mp3DeclaredDuration(b: Uint8Array, start: number): number | undefined {
  const first = mp3Frame(b, start);
  if (!first) return undefined;
  const side = first.mpeg1 ? (first.mono ? 17 : 32) : (first.mono ? 9 : 17);
  const xing = start + 4 + side;
  if (["Xing", "Info"].includes(ascii(b, xing, 4)) && (u32be(b, xing + 4) & 1)) {
    return (u32be(b, xing + 8) * first.samples) / first.rate;
  }
  if (ascii(b, start + 36, 4) === "VBRI") return (u32be(b, start + 36 + 14) * first.samples) / first.rate;
  return undefined;
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
      const mdhd = child(b, child(b, trak, "mdia"), "mdhd");
      return {
        handler: hdlr ? ascii(b, hdlr.body + 8, 4) : "", width: tkhd ? u32be(b, tkhd.end - 8) / 65536 : 0, height: tkhd ? u32be(b, tkhd.end - 4) / 65536 : 0,
        // An audio track's time scale is its sample rate.
        timescale: mdhd ? u32be(b, mdhd.body + (b[mdhd.body] === 1 ? 20 : 12)) : 0,
      };
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

// ---------------------------------------------------------------- telling what a file is

/** What its first bytes say a file is (its structure is checked to the end by inspectMedia). */
function sniffHead(b: Uint8Array): Sniffed | null {
  if (ascii(b, 0, 8) === "\x89PNG\r\n\x1a\n") return { kind: "image", mime: "image/png", ext: "png" };
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { kind: "image", mime: "image/jpeg", ext: "jpg" };
  if (ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 4) === "WEBP") return { kind: "image", mime: "image/webp", ext: "webp" };
  if (ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 4) === "WAVE") return { kind: "audio", mime: "audio/wav", ext: "wav" };
  if (ascii(b, 4, 4) === "ftyp") return bmffSniff(b);
  if (mp3Start(b) !== null) return { kind: "audio", mime: "audio/mpeg", ext: "mp3" };
  return null;
}

/** An ISO BMFF file by its brand and tracks (read from its moov box). */
function bmffSniff(b: Uint8Array): Sniffed {
  const brand = ascii(b, 8, 4);
  const { tracks } = bmffTracks(b);
  const video = tracks.some((t) => t.handler === "vide");
  if (brand === "M4A " || (!video && tracks.some((t) => t.handler === "soun"))) return { kind: "audio", mime: "audio/mp4", ext: "m4a" };
  if (brand === "qt  ") return { kind: "video", mime: "video/quicktime", ext: "mov" };
  return { kind: "video", mime: "video/mp4", ext: "mp4" };
}

/** What a file's header declares: dimensions, or a duration its container states. */
function probeHead(b: Uint8Array, sniffed: Sniffed): Probed {
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
      const sampleRate = fmt ? u32le(b, fmt.body + 4) : undefined;
      return byteRate && data ? { durationSeconds: data.size / byteRate, sampleRate } : { sampleRate };
    }
    case "mp3":
      return { durationSeconds: mp3DeclaredDuration(b, id3End(b)), sampleRate: mp3Frame(b, id3End(b))?.rate };
    default: {
      const { moov, tracks } = bmffTracks(b);
      const video = tracks.find((t) => t.handler === "vide");
      const audio = tracks.find((t) => t.handler === "soun");
      return {
        durationSeconds: mvhdSeconds(b, moov),
        ...(video ? { width: Math.round(video.width), height: Math.round(video.height) } : audio ? { sampleRate: audio.timescale } : {}),
      };
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

// ---------------------------------------------------------------- whole files, as they stream

/** The start of a file kept to tell what it is; an MP3 keeps its ID3 tag (cover art) too. */
const HEAD_BYTES = 256 * 1024;
const MAX_ID3_BYTES = 4 * 1024 * 1024;
/** An MP4's index (moov), kept when it comes after the media; a 50 MB video's is well under 1 MB. */
const MAX_MOOV_BYTES = 8 * 1024 * 1024;
/** Tags an MP3 may end with (ID3v1, APE, Lyrics3), kept to be checked. */
const MAX_MP3_TRAILER_BYTES = 64 * 1024;
/** ffmpeg reads a file starting so as a playlist (HLS) whatever its name; no media file holds it. */
const PLAYLIST = new TextEncoder().encode("#EXTM3U");

export type Inspection = { sniffed: Sniffed; probed: Probed } | { refused: string };

function concatBytes(chunks: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function contains(b: Uint8Array, needle: Uint8Array): boolean {
  for (let at = b.indexOf(needle[0]); at !== -1 && at + needle.length <= b.length; at = b.indexOf(needle[0], at + 1)) {
    if (needle.every((v, i) => b[at + i] === v)) return true;
  }
  return false;
}

/** Reads a file chunk by chunk, holding only its head and what its structure needs (an MP4's
 * moov box): what it is from its first bytes, checked to its last one. An MP3 must be MPEG
 * frames from start to end (an ID3 tag first, tags last); an MP4's top-level boxes must
 * tile the file; no file may contain a playlist. */
export class MediaInspector {
  #head: Uint8Array[] = [];
  #headBytes: Uint8Array = new Uint8Array(0);
  #headSize = 0;
  #headTarget = HEAD_BYTES;
  #sniffed: Sniffed | null | undefined;
  #size = 0;
  #playlist = false;
  #carry = new Uint8Array(0);
  // The structure walk: the next frame or box starts at #next; #tail holds the bytes from #tailAt.
  #next = 0;
  #tail = new Uint8Array(0);
  #tailAt = 0;
  #broken: string | null = null;
  #mp3Seconds = 0;
  #mp3Trailer: Uint8Array[] = [];
  #mp3TrailerSize = 0;
  #ftyp: Uint8Array | null = null;
  #moov: Uint8Array[] = [];
  #moovEnd = -1;
  #moovUpTo = 0;

  /** What the head says, once enough of it arrived (undefined before). */
  get sniffed(): Sniffed | null | undefined {
    return this.#sniffed;
  }

  get size() {
    return this.#size;
  }

  push(chunk: Uint8Array) {
    // The marker may straddle two chunks: the last bytes of one are kept to join the next.
    const bridge = concatBytes([this.#carry, chunk.subarray(0, PLAYLIST.length - 1)]);
    if (contains(bridge, PLAYLIST) || contains(chunk, PLAYLIST)) this.#playlist = true;
    const joined = chunk.length >= PLAYLIST.length - 1 ? chunk : bridge;
    this.#carry = joined.slice(Math.max(0, joined.length - PLAYLIST.length + 1));
    this.#size += chunk.length;
    if (this.#sniffed !== undefined) return this.#walk(chunk);
    this.#head.push(chunk);
    this.#headSize += chunk.length;
    if (this.#headSize >= 10 && this.#headTarget === HEAD_BYTES) {
      const first = concatBytes(this.#head).subarray(0, 10);
      this.#headTarget = Math.min(MAX_ID3_BYTES, id3End(first) + HEAD_BYTES);
    }
    if (this.#headSize >= this.#headTarget) this.#decide();
  }

  #decide() {
    const head = concatBytes(this.#head);
    this.#head = [];
    this.#headBytes = head;
    this.#sniffed = sniffHead(head);
    if (this.#sniffed?.ext === "mp3") this.#next = id3End(head);
    this.#walk(head);
  }

  /** Follows MP3 frames or top-level boxes through the bytes that just arrived. */
  #walk(chunk: Uint8Array) {
    const ext = this.#sniffed?.ext;
    const bmff = ext === "mp4" || ext === "m4a" || ext === "mov";
    if (ext !== "mp3" && !bmff) return;
    const b = this.#tail.length ? concatBytes([this.#tail, chunk]) : chunk;
    const start = this.#tailAt;
    const end = start + b.length;
    if (this.#moovUpTo < this.#moovEnd) this.#keepMoov(b, start, end);
    if (this.#broken !== null) return this.#keepTrailer(chunk);
    while (this.#next < end && this.#broken === null) {
      const at = this.#next - start;
      if (ext === "mp3") {
        if (end - this.#next < 4) break;
        const frame = mp3Frame(b, at);
        if (!frame) {
          this.#broken = `something other than MPEG audio frames at byte ${this.#next}`;
          this.#keepTrailer(b.subarray(at));
          break;
        }
        this.#mp3Seconds += frame.samples / frame.rate;
        this.#next += frame.bytes;
      } else {
        if (end - this.#next < 8) break;
        let size = u32be(b, at);
        if (size === 1) {
          if (end - this.#next < 16) break;
          size = u64be(b, at + 8);
        }
        const type = ascii(b, at + 4, 4);
        if (size === 0) size = Infinity; // the last box runs to the end
        if (size < 8) {
          this.#broken = `a damaged box at byte ${this.#next}`;
          break;
        }
        if (this.#next === 0) {
          if (size > 4096) {
            this.#broken = "an oversized file type box";
            break;
          }
          this.#ftyp = b.slice(at, at + size);
        }
        if (type === "moov") {
          if (size > MAX_MOOV_BYTES) {
            this.#broken = `an index (moov) of more than ${MAX_MOOV_BYTES / 1024 / 1024} MB`;
            break;
          }
          this.#moov = [];
          this.#moovEnd = this.#next + size;
          this.#moovUpTo = this.#next;
          this.#keepMoov(b, start, end);
        }
        this.#next += size;
      }
    }
    const keepFrom = Math.min(Math.max(this.#next, start), end);
    this.#tail = this.#broken === null ? b.slice(keepFrom - start) : new Uint8Array(0);
    this.#tailAt = keepFrom;
  }

  #keepMoov(b: Uint8Array, start: number, end: number) {
    const to = Math.min(this.#moovEnd, end);
    if (to > this.#moovUpTo) this.#moov.push(b.slice(this.#moovUpTo - start, to - start));
    this.#moovUpTo = Math.max(this.#moovUpTo, to);
  }

  #keepTrailer(b: Uint8Array) {
    if (this.#sniffed?.ext !== "mp3") return;
    this.#mp3TrailerSize += b.length;
    if (this.#mp3TrailerSize <= MAX_MP3_TRAILER_BYTES) this.#mp3Trailer.push(b.slice());
  }

  /** What the file is, or why it is refused. */
  finish(): Inspection {
    if (this.#sniffed === undefined) this.#decide();
    const sniffed = this.#sniffed;
    if (!sniffed) return { refused: "not a supported image (PNG, JPEG, WebP), audio (MP3, WAV, M4A) or video (MP4, MOV) file" };
    if (this.#playlist) return { refused: "it contains a playlist (#EXTM3U); upload the media file itself" };
    if (sniffed.ext === "mp3") return this.#finishMp3(sniffed);
    if (sniffed.ext === "mp4" || sniffed.ext === "m4a" || sniffed.ext === "mov") {
      if (this.#broken) return { refused: `not ${sniffed.kind === "audio" ? "an" : "a"} ${sniffed.ext.toUpperCase()} file: ${this.#broken}` };
      if (this.#moovUpTo < this.#moovEnd) return { refused: `not ${sniffed.kind === "audio" ? "an" : "a"} ${sniffed.ext.toUpperCase()} file: it ends inside its index (moov)` };
      // The brand and tracks decide between audio and video: read them with the moov wherever it was.
      const index = concatBytes([this.#ftyp ?? new Uint8Array(0), ...this.#moov]);
      const final = bmffSniff(index);
      return { sniffed: final, probed: probeHead(index, final) };
    }
    return { sniffed, probed: probeHead(this.#headBytes, sniffed) };
  }

  #finishMp3(sniffed: Sniffed): Inspection {
    if (this.#broken) {
      const trailer = concatBytes(this.#mp3Trailer);
      const tag = ["TAG", "APETAGEX", "LYRICSBEGIN"].some((t) => ascii(trailer, 0, t.length) === t);
      if (!tag || this.#mp3TrailerSize > MAX_MP3_TRAILER_BYTES) return { refused: `not an MP3 from start to end: ${this.#broken}` };
    }
    // A VBR header's frame count, else the frames counted to the end.
    const declared = probeHead(this.#headBytes, sniffed);
    return { sniffed, probed: { ...declared, durationSeconds: declared.durationSeconds ?? this.#mp3Seconds } };
  }
}

/** Why an inspected file may not be an asset, or null: what the inspection refused, an
 * image's size, audio's sample rate and length. */
export function assetRefusal(inspected: Inspection): string | null {
  if ("refused" in inspected) return inspected.refused;
  const { sniffed, probed } = inspected;
  if (sniffed.kind === "image" && Math.max(probed.width ?? 0, probed.height ?? 0) > MAX_IMAGE_SIDE) {
    return `it is ${probed.width}x${probed.height} pixels; at most ${MAX_IMAGE_SIDE} on a side`;
  }
  return sniffed.kind === "audio" ? audioRefusal(probed) : null;
}

/** A whole file in memory, inspected as if it streamed. */
export function inspectMedia(b: Uint8Array): Inspection {
  const inspector = new MediaInspector();
  inspector.push(b);
  return inspector.finish();
}

/** What a file is, checked to its end, or null (see MediaInspector). */
export function sniffMedia(b: Uint8Array): Sniffed | null {
  const inspected = inspectMedia(b);
  return "sniffed" in inspected ? inspected.sniffed : null;
}

/** Dimensions and duration of a file sniffMedia accepted. */
export function probeMedia(b: Uint8Array, _sniffed: Sniffed): Probed {
  const inspected = inspectMedia(b);
  return "probed" in inspected ? inspected.probed : {};
}
