// Real media for the simulators, made with ffmpeg and cached by content. Each file shows the
// step's work (the prompt drawn on the picture, the selfie in the merged image, the camera
// move named in the motion prompt) at the sizes, formats and durations the providers promise.
const CACHE = `${Deno.env.get("REELFORGE_STACK_DIR") ?? new URL("../.stack", import.meta.url).pathname}/sim-media`;
await Deno.mkdir(CACHE, { recursive: true });
/** fonts-dejavu-core (scripts/setup.sh). */
const FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
/** fonts-wqy-microhei (scripts/setup.sh): Chinese prompts (MovieFlow's examples) need CJK glyphs. */
const FONT_CJK = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";
const CJK = /[\u2e80-\u9fff\uac00-\ud7af\uff00-\uffef]/;

/** The font for a text, and its characters' width in ems (CJK glyphs are square). */
function fontFor(text: string, latin: string, latinWidth: number) {
  return CJK.test(text) ? { font: FONT_CJK, em: 1 } : { font: latin, em: latinWidth };
}
const FPS = 24;

/** A made file: its bytes, where it is cached, and the content hashes of it and of its input files. */
type Made = { bytes: Uint8Array<ArrayBuffer>; path: string; hash: string; inputs: Record<string, string> };
const pending = new Map<string, Promise<Made>>();

/** What the simulators made, newest last, for `GET /_sim/media` (the demo prints it). */
export type MediaReport = { at: string; step: string; did: string; file: string; inputs: string[]; output: string };
export const mediaReports: MediaReport[] = [];
const REPORTS_KEPT = 500;

function report(step: string, did: string, made: Made, inputs: string[]) {
  mediaReports.push({ at: new Date().toISOString(), step, did, file: made.path, inputs, output: made.hash });
  if (mediaReports.length > REPORTS_KEPT) mediaReports.splice(0, mediaReports.length - REPORTS_KEPT);
}

async function run(cmd: string, args: string[]) {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
}

async function ffmpeg(args: string[]) {
  await run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", ...args]);
}

/** Short content hash: cache keys, and how `/_sim/media` links a file to the step that made it. */
export async function contentHash(data: Uint8Array<ArrayBuffer> | string) {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * An ffmpeg run: its input files (written to a scratch directory that `{dir}` in the
 * arguments names) and its arguments up to the output file.
 */
type Recipe = {
  name: string;
  ext: string;
  files: Record<string, Uint8Array<ArrayBuffer> | string>;
  /** Commands run in the scratch directory before ffmpeg (e.g. espeak-ng writing a wav). */
  prepare?: string[][];
  args: string[];
};

/**
 * Runs a recipe once per content: the cache key hashes the arguments and the input files, so
 * the same request is served from disk and a changed drawing never serves a stale file.
 */
async function cached(recipe: Recipe): Promise<Made> {
  const inputs = Object.fromEntries(await Promise.all(Object.entries(recipe.files).map(async ([name, data]) => [name, await contentHash(data)])));
  const key = `${recipe.name}-${await contentHash(JSON.stringify([recipe.prepare ?? [], recipe.args, inputs]))}`;
  const path = `${CACHE}/${key}.${recipe.ext}`;
  let p = pending.get(path);
  if (!p) {
    p = (async () => {
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = await Deno.readFile(path);
      } catch {
        const dir = await Deno.makeTempDir({ dir: CACHE, prefix: `${key}.` });
        try {
          await Promise.all(Object.entries(recipe.files).map(([name, data]) =>
            typeof data === "string" ? Deno.writeTextFile(`${dir}/${name}`, data) : Deno.writeFile(`${dir}/${name}`, data)
          ));
          for (const [cmd, ...args] of recipe.prepare ?? []) await run(cmd, args.map((a) => a.replaceAll("{dir}", dir)));
          await ffmpeg([...recipe.args.map((a) => a.replaceAll("{dir}", dir)), `${dir}/out.${recipe.ext}`]);
          await Deno.rename(`${dir}/out.${recipe.ext}`, path);
        } finally {
          await Deno.remove(dir, { recursive: true }).catch(() => {});
        }
        bytes = await Deno.readFile(path);
      }
      return { bytes, path, hash: await contentHash(bytes), inputs };
    })();
    pending.set(path, p);
    p.catch(() => pending.delete(path));
  }
  return await p;
}

const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));

/** An HSL colour as ffmpeg's 0xRRGGBB: hashes pick hues, lightness stays where text and shapes read well. */
function hsl(h: number, s: number, l: number) {
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    const c = l - s * Math.min(l, 1 - l) * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(c * 255).toString(16).padStart(2, "0");
  };
  return `0x${f(0)}${f(8)}${f(4)}`;
}

/** Greedy word wrap; a last line that does not fit ends in an ellipsis. */
export function wrap(text: string, perLine: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.replace(/\s+/g, " ").trim().split(" ")) {
    for (const piece of word.match(new RegExp(`.{1,${perLine}}`, "gu")) ?? []) {
      if (line && line.length + 1 + piece.length > perLine) {
        lines.push(line);
        line = piece;
      } else line = line ? `${line} ${piece}` : piece;
    }
  }
  if (line) lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = `${kept[maxLines - 1].slice(0, perLine - 1)}…`;
  return kept;
}

/** drawtext for a block of wrapped lines read from a file (no filter escaping of user text). */
function textBlock(file: string, font: string, size: number, x: string, y: string, boxAlpha: number) {
  return `drawtext=fontfile=${font}:textfile=${file}:expansion=none:fontsize=${size}:fontcolor=white:` +
    `line_spacing=${Math.round(size * 0.3)}:box=1:boxcolor=black@${boxAlpha}:boxborderw=${Math.round(size * 0.45)}:x=${x}:y=${y}`;
}

const SHAPES = ["●", "▲", "■", "◆", "★"];

/**
 * A picture of the given size for a prompt: a two-colour gradient and four shapes whose
 * colours and places follow the prompt's hash, and the prompt itself in a readable block
 * below where a face would be. Used for every text-to-image model.
 */
export async function makeImage(prompt: string, width: number, height: number, format: "jpg" | "png") {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(prompt)));
  const hue = (digest[0] / 256) * 360;
  const c0 = hsl(hue, 0.6, 0.25 + digest[1] / 1280);
  const c1 = hsl((hue + 90 + digest[2] * 0.7) % 360, 0.65, 0.4 + digest[3] / 1280);
  const short = Math.min(width, height);
  const shapes = [0, 1, 2, 3].map((i) => {
    const size = Math.round(short * (0.16 + (digest[8 + i] % 16) / 100));
    const x = Math.round((digest[12 + i] / 255) * (width - size));
    const y = Math.round((digest[16 + i] / 255) * (height * 0.55 - size));
    const colour = hsl((hue + 90 * (i + 1) + digest[20 + i] / 4) % 360, 0.75, 0.6);
    const glyph = SHAPES[digest[24 + i] % SHAPES.length];
    return `drawtext=fontfile=${FONT}:text=${glyph}:fontsize=${size}:fontcolor=${colour}@0.8:x=${x}:y=${y}`;
  });
  const fontSize = Math.round(short / 20);
  // Narrow enough that a pan or orbit over the picture does not cut the text.
  const text = fontFor(prompt, FONT_BOLD, 0.62);
  const perLine = Math.floor((width * 0.78) / (fontSize * text.em));
  const top = Math.round(height * 0.62);
  const lines = wrap(prompt, perLine, Math.max(1, Math.floor((height * 0.95 - top) / (fontSize * 1.3))));
  const did = `${width}x${height} ${format === "jpg" ? "JPEG" : "PNG"}, colours #${c0.slice(2)} to #${c1.slice(2)}, ` +
    `${shapes.length} shapes, the prompt in ${lines.length} line${lines.length === 1 ? "" : "s"}`;
  const made = await cached({
    name: "image", ext: format, files: { "prompt.txt": lines.join("\n") },
    args: [
      "-f", "lavfi", "-i", `gradients=s=${width}x${height}:c0=${c0}:c1=${c1}:x0=0:y0=0:x1=${width}:y1=${height}`,
      "-vf", [...shapes, textBlock("{dir}/prompt.txt", text.font, fontSize, "(w-text_w)/2", String(top), 0.6)].join(","),
      "-frames:v", "1", ...(format === "jpg" ? ["-q:v", "3"] : []),
    ],
  });
  report("text-to-image", did, made, [await contentHash(prompt)]);
  return made.bytes;
}

/** Where a face goes in a picture of this size: a circle centred in the upper-middle third. */
export function faceCircle(width: number, height: number) {
  const diameter = even(Math.min(width, height) * 0.38);
  return { diameter, x: even((width - diameter) / 2), y: even(height * 0.3 - diameter / 2) };
}

/** The centre of the selfie, cut as a circle with a thin white ring, placed where a face would be. Answers PNG. */
export async function makeMergedImage(image: Uint8Array<ArrayBuffer>, face: Uint8Array<ArrayBuffer>, size: { width: number; height: number }) {
  const { diameter, x, y } = faceCircle(size.width, size.height);
  const ring = even(diameter / 80);
  const circle = (d: number) => `format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='255*clip(${d / 2}-hypot(X-${d / 2 - 0.5},Y-${d / 2 - 0.5}),0,1)'`;
  const made = await cached({
    name: "merged", ext: "png", files: { image, face },
    args: [
      "-i", "{dir}/image", "-i", "{dir}/face", "-filter_complex",
      `[1:v]crop='min(iw,ih)*0.6':'min(iw,ih)*0.6',scale=${diameter}:${diameter},${circle(diameter)}[face];` +
        `color=c=white:s=${diameter + 2 * ring}x${diameter + 2 * ring},${circle(diameter + 2 * ring)}[ring];` +
        `[0:v][ring]overlay=${x - ring}:${y - ring}:format=rgb[ringed];[ringed][face]overlay=${x}:${y}:format=rgb,format=rgb24`,
      "-frames:v", "1",
    ],
  });
  report("merge-face", `the selfie's centre in a ${diameter} px circle at (${x}, ${y}) of the ${size.width}x${size.height} picture`, made, [made.inputs.image, made.inputs.face]);
  return made.bytes;
}

export type CameraMove = "push-in" | "pan" | "orbit";

/** The camera move the motion prompt asks for; a push-in when it names none. */
export function cameraMove(motionPrompt: string): CameraMove {
  const words = motionPrompt.toLowerCase();
  if (/\borbit/.test(words)) return "orbit";
  if (/\bpan(s|ning|ned)?\b/.test(words)) return "pan";
  return "push-in";
}

/**
 * Filters for a move over `seconds`: the still is scaled once, looped, and each frame is cut
 * from it (zoompan or a moving crop at the output size; an upscaled zoompan would be slow).
 */
function moveFilters(move: CameraMove, width: number, height: number, seconds: number) {
  const frames = seconds * FPS;
  const still = (w: number, h: number) => [`scale=${w}:${h}`, "format=yuv420p", `loop=loop=${frames - 1}:size=1`, `setpts=N/${FPS}/TB`];
  if (move === "push-in") {
    return [...still(width, height), `zoompan=z='1+0.15*on/${frames}':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s=${width}x${height}:fps=${FPS}`];
  }
  const path = move === "pan"
    ? `x='(iw-ow)*t/${seconds}':y='(ih-oh)/2'`
    : `x='(iw-ow)/2*(1+sin(2*PI*t/${seconds}))':y='(ih-oh)/2*(1-0.6*cos(2*PI*t/${seconds}))'`;
  return [...still(even(width * 1.12), even(height * 1.12)), `crop=${width}:${height}:${path}`];
}

/**
 * An H.264 MP4 of exactly `seconds` seconds at 24 fps and the frame's size (even), moving
 * the camera over the frame as the motion prompt says, with the prompt as a small caption.
 */
export async function makeVideo(frame: Uint8Array<ArrayBuffer>, seconds: number, motionPrompt: string) {
  const size = imageSize(frame);
  if (!size) throw new Error("makeVideo: the frame is not a PNG or JPEG image");
  const [width, height] = [even(size.width), even(size.height)];
  const move = cameraMove(motionPrompt);
  const fontSize = Math.round(Math.min(width, height) / 30);
  const text = fontFor(motionPrompt, FONT, 0.58);
  const caption = wrap(`${move}: ${motionPrompt}`, Math.floor((width * 0.9) / (fontSize * text.em)), 2);
  const made = await cached({
    name: "video", ext: "mp4", files: { frame, "caption.txt": caption.join("\n") },
    args: [
      "-i", "{dir}/frame",
      "-vf", [
        ...moveFilters(move, width, height, seconds),
        textBlock("{dir}/caption.txt", text.font, fontSize, "(w-text_w)/2", `h-text_h-${Math.round(height * 0.03)}`, 0.5),
        "format=yuv420p",
      ].join(","),
      "-r", String(FPS), "-frames:v", String(seconds * FPS),
      "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-movflags", "+faststart",
    ],
  });
  report("image-to-video", `${seconds} s at ${FPS} fps, ${width}x${height}, ${move} (from the motion prompt), caption "${caption.join(" ")}"`, made, [made.inputs.frame]);
  return made.bytes;
}

/** The image scaled and cut to fill width x height (a reference image made into a first frame). */
export async function fillFrame(image: Uint8Array<ArrayBuffer>, width: number, height: number) {
  const made = await cached({
    name: "frame", ext: "png", files: { image },
    args: ["-i", "{dir}/image", "-vf", `scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height}`, "-frames:v", "1"],
  });
  return made.bytes;
}

/** Decoded image width and height, from PNG or JPEG headers. */
export function imageSize(b: Uint8Array): { width: number; height: number; type: "png" | "jpeg" } | null {
  if (b.length > 24 && b[0] === 0x89 && b[1] === 0x50) {
    const v = new DataView(b.buffer, b.byteOffset);
    return { width: v.getUint32(16), height: v.getUint32(20), type: "png" };
  }
  if (b.length > 4 && b[0] === 0xff && b[1] === 0xd8) {
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return null;
      const marker = b[i + 1];
      const len = (b[i + 2] << 8) | b[i + 3];
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return { height: (b[i + 5] << 8) | b[i + 6], width: (b[i + 7] << 8) | b[i + 8], type: "jpeg" };
      }
      i += 2 + len;
    }
  }
  return null;
}

/**
 * A Jimeng clip: exactly `frames` frames at 24 fps and width x height, H.264 yuv420p. The
 * first frame (the prompt's picture for t2v, the given image for i2v) pans slowly; with a
 * tail frame it fades into it over the clip. The prompt is the caption. Stills are scaled
 * once and looped, so a 241-frame 1088x1920 clip takes about 3 s on 2 cores.
 */
export async function makeJimengVideo(req: { first: Uint8Array<ArrayBuffer>; tail?: Uint8Array<ArrayBuffer>; width: number; height: number; frames: number; prompt: string; mode: string }) {
  const { width, height, frames } = req;
  const fontSize = Math.round(Math.min(width, height) / 30);
  const text = fontFor(req.prompt, FONT, 0.58);
  const caption = wrap(`${req.mode}: ${req.prompt}`, Math.floor((width * 0.9) / (fontSize * text.em)), 2);
  const still = (input: string, w: number, h: number) =>
    `[${input}:v]scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h},format=yuv420p,setsar=1,` +
    `loop=loop=${frames - 1}:size=1,setpts=N/${FPS}/TB`;
  const seconds = (frames - 1) / FPS;
  const graph = req.tail
    ? `${still("0", width, height)}[a];${still("1", width, height)}[b];` +
      `[a][b]xfade=transition=fade:duration=${(seconds * 0.8).toFixed(3)}:offset=${(seconds * 0.1).toFixed(3)}`
    : `${still("0", even(width * 1.08), even(height * 1.08))},crop=${width}:${height}:x='(iw-ow)*n/${frames - 1}':y='(ih-oh)/2'`;
  const made = await cached({
    name: "jimeng", ext: "mp4", files: { first: req.first, ...(req.tail ? { tail: req.tail } : {}), "caption.txt": caption.join("\n") },
    args: [
      "-i", "{dir}/first", ...(req.tail ? ["-i", "{dir}/tail"] : []),
      "-filter_complex", `${graph},${textBlock("{dir}/caption.txt", text.font, fontSize, "(w-text_w)/2", `h-text_h-${Math.round(height * 0.03)}`, 0.5)},format=yuv420p`,
      "-r", String(FPS), "-frames:v", String(frames),
      "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-movflags", "+faststart",
    ],
  });
  const did = `${frames} frames at ${FPS} fps, ${width}x${height}, ${req.tail ? "a fade from the first to the tail frame" : "a pan over the first frame"}, caption "${caption.join(" ")}"`;
  report(`jimeng-${req.mode}`, did, made, [made.inputs.first, ...(made.inputs.tail ? [made.inputs.tail] : [])]);
  return made.bytes;
}

/** Speech for `text` made with espeak-ng (Mandarin for CJK text, English otherwise) at
 * `wpm` words per minute, encoded as the TTS API's `encoding` at `rate` Hz, mono. */
export async function makeSpeech(text: string, opts: { wpm: number; encoding: "mp3" | "wav" | "pcm" | "ogg_opus"; rate: number }) {
  const voice = /[\u3400-\u9fff\uf900-\ufaff]/.test(text) ? "cmn" : "en";
  const codec: Record<typeof opts.encoding, string[]> = {
    mp3: ["-c:a", "libmp3lame", "-b:a", "160k", "-f", "mp3"],
    wav: ["-c:a", "pcm_s16le", "-f", "wav"],
    pcm: ["-c:a", "pcm_s16le", "-f", "s16le"],
    ogg_opus: ["-c:a", "libopus", "-f", "ogg"],
  };
  const made = await cached({
    name: "speech", ext: opts.encoding === "ogg_opus" ? "ogg" : opts.encoding, files: { "text.txt": text },
    prepare: [["espeak-ng", "-v", voice, "-s", String(opts.wpm), "-f", "{dir}/text.txt", "-w", "{dir}/speech.wav"]],
    // Opus has no 24000 Hz output; the Ogg stream says 48000 and decoders resample.
    args: ["-i", "{dir}/speech.wav", "-ac", "1", "-ar", String(opts.encoding === "ogg_opus" ? 48000 : opts.rate), ...codec[opts.encoding]],
  });
  const seconds = await probeSeconds(made.path, opts.encoding === "pcm" ? opts.rate : undefined);
  report("speech", `espeak-ng voice ${voice} at ${opts.wpm} wpm, ${opts.encoding} ${opts.rate} Hz, ${seconds.toFixed(2)} s`, made, [await contentHash(text)]);
  return { bytes: made.bytes, durationMs: Math.round(seconds * 1000) };
}

/** Duration of a media file as ffprobe reads it (raw PCM: from its size, 16-bit mono). */
async function probeSeconds(path: string, pcmRate?: number): Promise<number> {
  if (pcmRate) return (await Deno.stat(path)).size / 2 / pcmRate;
  const out = await new Deno.Command("ffprobe", { args: ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path], stdout: "piped" }).output();
  return Number(new TextDecoder().decode(out.stdout).trim());
}

/**
 * An OmniHuman clip: the portrait (its shape kept, `resolution` pixels on its short side)
 * speaking the audio: the speech's waveform drawn where a mouth would be, as long as the
 * audio, the audio muxed in (AAC). H.264 at 25 fps.
 */
export async function makeTalkingHead(req: { image: Uint8Array<ArrayBuffer>; audio: Uint8Array<ArrayBuffer>; resolution: number }) {
  const size = imageSize(req.image);
  const scale = req.resolution / Math.min(size?.width ?? 1, size?.height ?? 1);
  const [width, height] = [even((size?.width ?? req.resolution) * scale), even((size?.height ?? req.resolution) * scale)];
  const made = await cached({
    name: "talking-head", ext: "mp4", files: { image: req.image, audio: req.audio },
    args: [
      "-loop", "1", "-framerate", "25", "-i", "{dir}/image", "-i", "{dir}/audio",
      "-filter_complex",
      `[0:v]scale=${width}:${height},setsar=1,format=yuv420p[face];` +
        `[1:a]showwaves=s=${even(width / 3)}x${even(height / 12)}:mode=cline:colors=0xc03040:rate=25,format=rgba[mouth];` +
        `[face][mouth]overlay=x=(W-w)/2:y=H*0.62:shortest=1,format=yuv420p[v]`,
      "-map", "[v]", "-map", "1:a", "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-c:a", "aac", "-b:a", "96k",
      "-movflags", "+faststart",
    ],
  });
  report("omnihuman", `the ${width}x${height} portrait speaking its audio (waveform as the mouth)`, made, [made.inputs.image, made.inputs.audio]);
  return made.bytes;
}

/** An audio file's length in seconds, as ffprobe reads it. */
export async function audioSeconds(audio: Uint8Array<ArrayBuffer>): Promise<number> {
  const file = await Deno.makeTempFile({ dir: CACHE, suffix: ".audio" });
  try {
    await Deno.writeFile(file, audio);
    return await probeSeconds(file);
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}

/** An edit of an image (an image model given an image and an instruction): the image, its
 * colours turned a little (hue +40°), the instruction in a band across its top. PNG. */
export async function makeEditedImage(image: Uint8Array<ArrayBuffer>, instruction: string, width: number, height: number) {
  const fontSize = Math.round(Math.min(width, height) / 24);
  const text = fontFor(instruction, FONT_BOLD, 0.62);
  const lines = wrap(`edit: ${instruction}`, Math.floor((width * 0.9) / (fontSize * text.em)), 3);
  const made = await cached({
    name: "edited", ext: "png", files: { image, "instruction.txt": lines.join("\n") },
    args: [
      "-i", "{dir}/image", "-vf",
      `scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height},hue=h=40,` +
        textBlock("{dir}/instruction.txt", text.font, fontSize, "(w-text_w)/2", String(Math.round(height * 0.04)), 0.6),
      "-frames:v", "1",
    ],
  });
  report("image-edit", `the ${width}x${height} input, hue turned 40°, the instruction in ${lines.length} line(s) at the top`, made, [made.inputs.image]);
  return made.bytes;
}
