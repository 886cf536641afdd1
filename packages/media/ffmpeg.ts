// The ffmpeg side of the movie pipeline: each scene's clip is normalised as soon as it is
// stored, so that when the last one lands only a join without re-encoding video, the audio
// mix and a faststart rewrite are left. Runs under Deno (the media worker) and Node (vitest),
// hence node:child_process and node:fs/promises rather than Deno APIs.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, extname, join, resolve } from "node:path";
import { AppError } from "../shared/src/errors.ts";

export type Platform = "douyin" | "wechat" | "bilibili";

/**
 * What each platform gets. None of the three publishes a loudness target, and all of them
 * transcode uploads, so the figures are our choice:
 * - canvas 1080x1920: the product makes vertical video, and 9:16 at 1080 wide is the size
 *   Douyin, WeChat Channels and Bilibili's vertical player all recommend for uploads.
 * - 24 fps: what the video provider delivers; raising it to 30 would only repeat frames (judder).
 * - -14 LUFS integrated, -1 dBTP: the level feeds of short mobile video sit at (and what
 *   YouTube and Spotify normalise to); -1 dBTP leaves room for the AAC encoder's overshoot
 *   (AES TD1008 advises -1 dBTP for lossy delivery). The same on all three, so one movie
 *   sounds the same wherever it is posted.
 * - 48 kHz AAC (the video rate; no resampling of TTS or music made for video). 128 kb/s
 *   stereo where the platform re-encodes for phones anyway; 192 kb/s for Bilibili, whose
 *   player offers high-quality audio and is often heard on headphones and desktop speakers.
 */
export const PLATFORM_PRESETS: Record<Platform, { width: number; height: number; fps: number; lufs: number; truePeak: number; audioRate: number; audioBitrate: string }> = {
  douyin: { width: 1080, height: 1920, fps: 24, lufs: -14, truePeak: -1, audioRate: 48000, audioBitrate: "128k" },
  wechat: { width: 1080, height: 1920, fps: 24, lufs: -14, truePeak: -1, audioRate: 48000, audioBitrate: "128k" },
  bilibili: { width: 1080, height: 1920, fps: 24, lufs: -14, truePeak: -1, audioRate: 48000, audioBitrate: "192k" },
};

/** fonts-dejavu-core (scripts/setup.sh). */
const FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/**
 * One encoder setting for every segment, so that segments of the same spec share SPS/PPS and
 * concatenate by copying packets. x264 ultrafast, measured on a 10 s 1088x1920 clip on this
 * 2-core machine: 1.3-1.4 s against 3.4-5.1 s for veryfast, SSIM 0.996 for both (veryfast's
 * file is 30% smaller; the platforms re-encode anyway, and the wait after the last scene is
 * what users feel). Ultrafast turns off the 8x8 transform, which leaves a Constrained Baseline
 * stream, so it is turned back on (no measurable cost) for a real High profile; CABAC would
 * add ~40% time for ~1% size. Ultrafast has no B-frames: pts = dts, no edit lists, so the
 * concat demuxer's offsets are exact. CRF 20 capped at 8 Mb/s keeps a 60 s movie near 60 MB
 * for upload. A key frame every 2 s and none at scene cuts: a fixed GOP.
 */
const X264 = { preset: "ultrafast", crf: 20, maxrate: "8M", bufsize: "16M", keySeconds: 2 };
/** 90 kHz: divisible by 24, 25, 30, 50 and 60, so every frame duration is a whole tick. */
const VIDEO_TIMESCALE = 90000;
/** Background music level before ducking: released music is mastered some 8-12 LU louder than TTS speech, so -12 dB puts the bed under the voice. */
const MUSIC_GAIN_DB = -12;
const MUSIC_FADE_OUT_SECONDS = 2;

/**
 * The demuxer of every file ffmpeg reads, by the extension its job gave it (the type the job
 * knows: what it asked a provider for, what it wrote, what an upload was transcoded to), never
 * guessed from the content: an HLS playlist inside an "mp3" would make ffmpeg read other files.
 */
const DEMUXERS: Record<string, string> = {
  ".mp4": "mov", ".m4a": "mov", ".mp3": "mp3", ".flac": "flac", ".wav": "wav", ".jpg": "image2", ".ffconcat": "concat",
};

/** What a run does, for its CPU budget. */
export type Work = "probe" | "video" | "audio" | "copy";

/**
 * CPU seconds a run may use: a floor (start-up, probing) plus a rate per second of media it
 * writes. Measured on this 2-core machine: normalising a 10 s 1080x1920 clip takes ~0.3 CPU s
 * per output second, the audio mix ~0.03, a join or a poster less; the budgets are 6-10x that
 * (CPU time does not grow with the machine's load), while a hostile input (a 10 MHz WAV looped
 * and resampled costs ~100 CPU s per output second) is stopped within seconds. The wall clock
 * gets four times the CPU budget plus 20 s, enough for a run sharing the cores with a dozen
 * others: it ends a run that waits instead of computing.
 */
const CPU_BUDGET: Record<Work, { floor: number; perSecond: number }> = {
  probe: { floor: 5, perSecond: 0 },
  video: { floor: 10, perSecond: 2 },
  audio: { floor: 5, perSecond: 0.5 },
  copy: { floor: 5, perSecond: 0.1 },
};

/** How much a run may cost, and the signal that stops it (its task canceled or lost). */
export type MediaLimit = { work: Work; seconds: number; signal?: AbortSignal };

export function limitsOf({ work, seconds }: MediaLimit): { cpuSeconds: number; wallSeconds: number } {
  const cpuSeconds = Math.ceil(CPU_BUDGET[work].floor + CPU_BUDGET[work].perSecond * seconds);
  return { cpuSeconds, wallSeconds: 4 * cpuSeconds + 20 };
}

/** Output beyond this is an error (ffmpeg's logs and ffprobe's JSON are far smaller). */
const MAX_OUTPUT_BYTES = 64 << 20;

/**
 * The arguments that read one file: its demuxer named, the file protocol only (no network,
 * no nested protocols), and only from the job directory, by its name there.
 */
export function inputArgs(dir: string, file: string): string[] {
  const format = DEMUXERS[extname(file)];
  if (!format) throw new Error(`ffmpeg: no demuxer is known for ${basename(file)}`);
  return ["-f", format, "-protocol_whitelist", "file", "-i", nameIn(dir, file)];
}

/** A file's name in its job directory (where ffmpeg runs); one elsewhere is a bug. */
function nameIn(dir: string, file: string): string {
  if (dirname(resolve(dir, file)) !== resolve(dir)) throw new Error(`ffmpeg: ${file} is outside its job directory ${dir}`);
  return basename(file);
}

/**
 * Runs ffmpeg or ffprobe in `dir` (its job directory) under its limits: the kernel stops it at
 * its CPU budget (prlimit), `timeout` at its wall-clock budget even if this process dies. It
 * runs in its own process group (detached), which `timeout` ends as a whole: on its wall
 * clock, or when we signal it because `signal` aborted (it passes the signal on to the group
 * and kills the group 0.1 s later), so the worker needs no right to signal other processes
 * (Deno's --allow-run=timeout). A limit hit is the task's failure (TASK_FAILED, not retried:
 * the same input would hit it again).
 */
export async function runMedia(tool: "ffmpeg" | "ffprobe", dir: string, args: string[], limit: MediaLimit): Promise<{ stdout: string; stderr: string }> {
  limit.signal?.throwIfAborted();
  const { cpuSeconds, wallSeconds } = limitsOf(limit);
  const fixed = tool === "ffmpeg" ? ["-hide_banner", "-nostdin", "-y"] : ["-hide_banner"];
  const child = spawn("timeout", ["--kill-after=0.1", String(wallSeconds), "prlimit", `--cpu=${cpuSeconds}`, "--", tool, ...fixed, ...args], {
    cwd: dir, detached: true, stdio: ["ignore", "pipe", "pipe"],
  });
  const killGroup = () => child.kill("SIGTERM");
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  let bytes = 0;
  for (const stream of ["stdout", "stderr"] as const) {
    child[stream].on("data", (b: Buffer) => {
      chunks[stream].push(b);
      if ((bytes += b.length) > MAX_OUTPUT_BYTES) killGroup();
    });
  }
  limit.signal?.addEventListener("abort", killGroup, { once: true });
  let exit: { code: number | null; signal: string | null };
  try {
    exit = await new Promise((done, fail) => {
      child.on("error", fail);
      child.on("close", (code, signal) => done({ code, signal }));
    });
  } finally {
    limit.signal?.removeEventListener("abort", killGroup);
  }
  limit.signal?.throwIfAborted();
  const stdout = Buffer.concat(chunks.stdout).toString();
  const stderr = Buffer.concat(chunks.stderr).toString();
  // timeout answers 124 when the wall clock ran out, and dies of the tool's SIGKILL when the
  // kernel killed the tool at its CPU limit (prlimit's soft and hard limits are the same).
  const cpuLimit = exit.signal === "SIGKILL" && bytes <= MAX_OUTPUT_BYTES;
  if (exit.code === 124 || cpuLimit) {
    const spent = cpuLimit ? `${cpuSeconds} s of CPU` : `${wallSeconds} s`;
    throw new AppError("TASK_FAILED", `The media took too long to process: ${tool} was stopped after ${spent} (the limit of ${limit.work} work for ${Math.round(limit.seconds)} s of output)`);
  }
  if (exit.code !== 0) throw new Error(`${tool} failed (${exit.code ?? exit.signal}): ${stderr.trim().split("\n").slice(-12).join("\n")}`);
  return { stdout, stderr };
}

const ffmpeg = (dir: string, args: string[], limit: MediaLimit) => runMedia("ffmpeg", dir, args, limit);

/** A scratch directory for one piece of work, removed whatever happens. */
export async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "reelforge-media-"));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Intermediate files of a run live beside its output (in its job directory), named after it,
 * and go when the work ends. */
async function besideOutput<T>(output: string, work: (scratch: (name: string) => string) => Promise<T>): Promise<T> {
  const made: string[] = [];
  try {
    return await work((name) => {
      made.push(`${output}.${name}`);
      return made[made.length - 1];
    });
  } finally {
    await Promise.all(made.map((f) => rm(f, { force: true })));
  }
}

/** Files of a job: inputs, outputs and intermediate files all in one directory, where its
 * ffmpeg runs. `signal` stops the work (its task canceled or no longer this worker's). */
export type SegmentSpec = {
  input: string; output: string; width: number; height: number; fps: number; seconds: number; fadeIn: number; fadeOut: number;
  watermark: string | null; signal?: AbortSignal;
};

/**
 * Scale/crop (cover, centred) to width x height, resample to fps, trim/pad to exactly
 * seconds*fps frames (holding the last frame when the input is short), fades from/to black,
 * optional watermark text bottom-right. Output: a plain (unfragmented) MP4, H.264 only, which
 * the concat demuxer joins exactly: each file's duration is its frame count at a 90 kHz
 * timescale, and with no B-frames nothing is offset by an edit list. Returns the probed length.
 */
export async function normalizeSegment(spec: SegmentSpec): Promise<{ seconds: number; frames: number }> {
  const frames = Math.round(spec.seconds * spec.fps);
  const fadeIn = Math.min(frames, Math.round(spec.fadeIn * spec.fps));
  const fadeOut = Math.min(frames, Math.round(spec.fadeOut * spec.fps));
  const dir = dirname(spec.output);
  return await besideOutput(spec.output, async (scratch) => {
    const filters = [
      "setpts=PTS-STARTPTS",
      `scale=${spec.width}:${spec.height}:force_original_aspect_ratio=increase`,
      `crop=${spec.width}:${spec.height}`,
      "setsar=1",
      `fps=${spec.fps}`,
      // Clone the last frame for as long as a whole segment: enough for any shortfall; trim cuts the rest.
      `tpad=stop_mode=clone:stop=${frames}`,
      `trim=end_frame=${frames}`,
    ];
    if (fadeIn) filters.push(`fade=t=in:s=0:n=${fadeIn}`);
    if (fadeOut) filters.push(`fade=t=out:s=${frames - fadeOut}:n=${fadeOut}`);
    if (spec.watermark) {
      // The text goes through a file with expansion off: user text never reaches the filter syntax.
      const textfile = scratch("watermark.txt");
      await writeFile(textfile, spec.watermark);
      const size = Math.round(spec.height / 40);
      const margin = Math.round(spec.height / 50);
      filters.push(
        `drawtext=fontfile=${FONT}:textfile=${basename(textfile)}:expansion=none:fontsize=${size}:fontcolor=white@0.6:` +
          `shadowcolor=black@0.4:shadowx=2:shadowy=2:x=w-text_w-${margin}:y=h-text_h-${margin}`,
      );
    }
    filters.push("format=yuv420p");
    const keyint = Math.round(X264.keySeconds * spec.fps);
    await ffmpeg(dir, [
      "-loglevel", "error", ...inputArgs(dir, spec.input), "-map", "0:v:0", "-vf", filters.join(","), "-frames:v", String(frames),
      "-c:v", "libx264", "-preset", X264.preset, "-profile:v", "high", "-pix_fmt", "yuv420p",
      "-crf", String(X264.crf), "-maxrate", X264.maxrate, "-bufsize", X264.bufsize,
      "-x264-params", `8x8dct=1:keyint=${keyint}:min-keyint=${keyint}:scenecut=0`,
      "-video_track_timescale", String(VIDEO_TIMESCALE), "-an", "-sn", "-dn", "-map_metadata", "-1", nameIn(dir, spec.output),
    ], { work: "video", seconds: spec.seconds, signal: spec.signal });
    const info = await probe(spec.output, spec.signal);
    const video = info.streams.find((s) => s.type === "video");
    return { seconds: video?.duration ?? info.duration, frames: video?.frames ?? 0 };
  });
}

/** The movie's soundtrack: what it is made of, and where the AAC file (.m4a) goes. */
export type AudioSpec = {
  sceneSeconds: number[];
  narrations: (string | null)[];  // per scene (MP3 from TTS): laid at the scene's start, cut at its end; null = none
  music: string | null;  // FLAC, as uploads of music are transcoded (refused if its rate or length is absurd)
  lufs: number;
  truePeak: number;
  audioRate: number;
  audioBitrate: string;
  output: string;
  signal?: AbortSignal;
};

/** Music rates an upload can have after its transcode (48 kHz); anything else is refused, not resampled. */
const MUSIC_RATES = { min: 8_000, max: 192_000 };
/** Uploads of music are at least this long, so the music loops at most once per second of movie. */
const MIN_MUSIC_SECONDS = 1;

const unusableMusic = (why: string) => new AppError("TASK_FAILED", `The background music cannot be used: ${why}`);

/** How many times the music repeats after its first play to cover `total` seconds, once it is
 * checked: a FLAC file with a sane rate and length (a 46-byte WAV at 10 MHz lasts 0.1 us and
 * would loop ten million times a second). */
async function musicLoops(file: string, total: number, signal?: AbortSignal): Promise<number> {
  let info: Probe;
  try {
    info = await probe(file, signal);
  } catch (err) {
    if (err instanceof AppError || signal?.aborted) throw err;
    throw unusableMusic("it is not a FLAC file");
  }
  // The FLAC demuxer takes any bytes; without a STREAMINFO block it reports a rate of 0.
  const audio = info.streams.find((s) => s.type === "audio");
  if (!audio || audio.codec !== "flac" || !audio.sampleRate) throw unusableMusic("it is not a FLAC file");
  const rate = audio.sampleRate;
  if (!(rate >= MUSIC_RATES.min && rate <= MUSIC_RATES.max)) throw unusableMusic(`its sample rate ${rate} Hz is outside 8-192 kHz`);
  const seconds = audio.duration || info.duration;
  if (!(seconds >= MIN_MUSIC_SECONDS)) throw unusableMusic(`it lasts ${seconds} s, under ${MIN_MUSIC_SECONDS} s`);
  return Math.ceil(total / seconds) - 1;
}

/**
 * The movie's audio before loudness, as a filter graph ending in `[mix]`: narrations cut at
 * their scene's end and laid at its start, music looped to the total, ducked under the
 * narration and faded out. Null when there is neither narration nor music.
 */
function mixGraph(spec: AudioSpec, dir: string, musicLoops: number, total: number, fmt: string) {
  const inputs: string[] = [];
  const chains: string[] = [];
  const speech: string[] = [];
  let start = 0;
  spec.sceneSeconds.forEach((seconds, i) => {
    const file = spec.narrations[i];
    if (file) {
      inputs.push(...inputArgs(dir, file));
      chains.push(`[${speech.length}:a:0]atrim=end=${seconds},${fmt},adelay=delays=${Math.round(start * 1000)}:all=1[n${i}]`);
      speech.push(`[n${i}]`);
    }
    start += seconds;
  });
  const voice = speech.length > 1
    ? `${speech.join("")}amix=inputs=${speech.length}:normalize=0:duration=longest:dropout_transition=0`
    : `${speech[0]}anull`;
  if (spec.music) {
    inputs.push("-stream_loop", String(musicLoops), ...inputArgs(dir, spec.music));
    const fade = Math.min(MUSIC_FADE_OUT_SECONDS, total / 4);
    chains.push(`[${speech.length}:a:0]${fmt},atrim=end=${total},volume=${MUSIC_GAIN_DB}dB,afade=t=out:st=${total - fade}:d=${fade}[music]`);
  }
  if (speech.length && spec.music) {
    // Ducking: the narration keys a compressor on the music (threshold -30 dBFS, 6:1: about 8 dB down under speech).
    // The key is padded to the end: the compressor stops where its key stops.
    chains.push(`${voice},apad=whole_dur=${total},asplit=2[voice][key]`, `[music][key]sidechaincompress=threshold=0.03:ratio=6:attack=20:release=400[ducked]`);
    chains.push(`[voice][ducked]amix=inputs=2:normalize=0:duration=longest:dropout_transition=0[mix]`);
  } else if (speech.length) chains.push(`${voice}[mix]`);
  else if (spec.music) chains.push(`[music]anull[mix]`);
  else return null;
  return { inputs, graph: chains.join(";") };
}

const dbToGain = (db: number) => Math.pow(10, db / 20);

/**
 * The whole soundtrack, AAC, exactly sum(sceneSeconds) long. It needs no video, so the media
 * worker makes it as soon as the narrations exist, while segments are still generating; the
 * join then only copies packets.
 *
 * Loudness in two passes, neither of them loudnorm: pass one renders the mix to a WAV while
 * ebur128 measures it (~0.4 s for 60 s); pass two applies one gain to the target and a peak
 * limiter 0.5 dB under the true-peak target. loudnorm costs ~1.9 s per pass here (it
 * resamples to 192 kHz), so two-pass loudnorm would be ~4 s and one-pass loudnorm (~2 s) is a
 * "live" normaliser that pumps between sentences; a measured linear gain is exact for the
 * integrated loudness and keeps the voice's dynamics.
 *
 * AAC encoding is the largest single cost (~0.9-1.2 CPU s for 60 s). The native encoder's
 * default coder (twoloop) stays: its "fast" coder was faster on speech over silence but slower
 * on speech over music (0.6 vs 1.1 s, 1.2 vs 0.9 s), and twoloop sounds better.
 */
export async function mixAudio(spec: AudioSpec): Promise<{ seconds: number }> {
  if (spec.sceneSeconds.length !== spec.narrations.length) {
    throw new Error(`mixAudio: ${spec.sceneSeconds.length} scene lengths and ${spec.narrations.length} narrations must match`);
  }
  const total = spec.sceneSeconds.reduce((a, b) => a + b, 0);
  const fmt = `aresample=${spec.audioRate},aformat=sample_fmts=fltp:channel_layouts=stereo`;
  const exact = `${fmt},apad=whole_dur=${total},atrim=end=${total},asetpts=N/SR/TB`;
  const dir = dirname(spec.output);
  const limit = { work: "audio" as const, seconds: total, signal: spec.signal };
  return await besideOutput(spec.output, async (scratch) => {
    // No narration and no music: still a silent AAC track (players and platforms expect one).
    let audio = { inputs: [] as string[], graph: `anullsrc=r=${spec.audioRate}:cl=stereo,atrim=end=${total}[aout]` };
    const mix = mixGraph(spec, dir, spec.music ? await musicLoops(spec.music, total, spec.signal) : 0, total, fmt);
    if (mix) {
      const wav = scratch("mix.wav");
      const { stderr } = await ffmpeg(dir, [
        "-loglevel", "info", "-nostats", ...mix.inputs,
        "-filter_complex", `${mix.graph};[mix]ebur128=framelog=verbose,${exact}[aout]`, "-map", "[aout]", "-c:a", "pcm_f32le", nameIn(dir, wav),
      ], limit);
      const summary = stderr.slice(stderr.lastIndexOf("Summary:"));
      const integrated = Number(summary.match(/I:\s+(-?[\d.]+) LUFS/)?.[1]);
      // Nothing above the gate (silent files) has no loudness to correct.
      const gain = Number.isFinite(integrated) && integrated > -70 ? spec.lufs - integrated : 0;
      // The limiter works on sample peaks; 0.5 dB under the true-peak target covers inter-sample peaks at 48 kHz.
      const peak = Math.max(0.0625, dbToGain(spec.truePeak - 0.5));
      audio = {
        inputs: inputArgs(dir, wav),
        graph: `[0:a:0]volume=${gain.toFixed(2)}dB,alimiter=limit=${peak.toFixed(4)}:level=false:latency=true:attack=5:release=50,${exact}[aout]`,
      };
    }
    await ffmpeg(dir, [
      "-loglevel", "error", ...audio.inputs, "-filter_complex", audio.graph, "-map", "[aout]",
      "-c:a", "aac", "-b:a", spec.audioBitrate, "-ar", String(spec.audioRate), "-ac", "2", "-t", String(total),
      "-map_metadata", "-1", nameIn(dir, spec.output),
    ], limit);
    return { seconds: (await probe(spec.output, spec.signal)).duration };
  });
}

/** Normalised segments and a soundtrack (mixAudio's), and where the movie and its poster go,
 * all in one job directory. */
export type JoinSpec = { segments: string[]; audio: string; seconds: number; posterAt: number; output: string; poster: string; signal?: AbortSignal };

/**
 * The movie: the segments' H.264 packets copied (concat demuxer) and the soundtrack's AAC
 * packets copied, +faststart, cut at exactly `seconds`. Nothing is encoded, so this is the
 * only work left when the last segment arrives (besides normalising it). The poster comes
 * from the segment under `posterAt`: its packets are the movie's, so the frame is the
 * movie's, and it is made while the movie is written.
 */
export async function joinMovie(spec: JoinSpec): Promise<{ seconds: number }> {
  const dir = dirname(spec.output);
  const limit = { work: "copy" as const, seconds: spec.seconds, signal: spec.signal };
  return await besideOutput(spec.output, async (scratch) => {
    // Names, not paths: the concat demuxer's safe mode refuses absolute paths and "..". Each
    // segment's own format is probed by the demuxer; they are our own MP4s (normalizeSegment's).
    const list = scratch("segments.ffconcat");
    await writeFile(list, `ffconcat version 1.0\n${spec.segments.map((s) => `file '${nameIn(dir, s).replaceAll("'", `'\\''`)}'\n`).join("")}`);
    const poster = ffmpeg(dir, ["-loglevel", "error", "-ss", String(spec.posterAt), ...inputArgs(dir, spec.segments[0]), "-frames:v", "1", "-q:v", "3", nameIn(dir, spec.poster)], limit);
    // auto_convert off: otherwise the demuxer runs h264_mp4toannexb and every key frame gains an in-band SPS/PPS copy.
    await ffmpeg(dir, [
      "-loglevel", "error", "-safe", "1", "-auto_convert", "0", ...inputArgs(dir, list), ...inputArgs(dir, spec.audio),
      "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", "-t", String(spec.seconds),
      "-video_track_timescale", String(VIDEO_TIMESCALE), "-map_metadata", "-1", "-movflags", "+faststart", nameIn(dir, spec.output),
    ], limit);
    await poster;
    return { seconds: (await probe(spec.output, spec.signal)).duration };
  });
}

/** Everything at once (mixAudio, then joinMovie): the movie from segments and its sound. */
export type MergeSpec = Omit<AudioSpec, "output"> & { segments: string[]; output: string; poster: string };

export async function mergeMovie(spec: MergeSpec): Promise<{ seconds: number }> {
  const n = spec.segments.length;
  if (!n || spec.sceneSeconds.length !== n) {
    throw new Error(`mergeMovie: ${n} segments and ${spec.sceneSeconds.length} scene lengths must match`);
  }
  const seconds = spec.sceneSeconds.reduce((a, b) => a + b, 0);
  return await besideOutput(spec.output, async (scratch) => {
    const audio = scratch("soundtrack.m4a");
    await mixAudio({ ...spec, output: audio });
    return await joinMovie({ ...spec, audio, seconds, posterAt: spec.sceneSeconds[0] / 2 });
  });
}

export type ProbeStream = {
  type: "video" | "audio" | "other";
  codec: string;
  width?: number;
  height?: number;
  fps?: number;
  frames?: number;
  duration: number;
  sampleRate?: number;
  channels?: number;
};
export type Probe = { duration: number; streams: ProbeStream[] };

const ratio = (r: string | undefined) => {
  const [a, b] = (r ?? "").split("/").map(Number);
  return b ? a / b : undefined;
};
const num = (x: unknown) => (x === undefined || x === "N/A" ? undefined : Number(x));

/** ffprobe summary: the container's duration and each stream's codec, size, rate and length. */
export async function probe(file: string, signal?: AbortSignal): Promise<Probe> {
  const dir = dirname(resolve(file));
  const { stdout } = await runMedia("ffprobe", dir, [
    "-v", "error", "-of", "json", "-show_entries",
    "format=duration:stream=codec_type,codec_name,width,height,avg_frame_rate,nb_frames,duration,sample_rate,channels", ...inputArgs(dir, file),
  ], { work: "probe", seconds: 0, signal });
  const out = JSON.parse(stdout) as { format: { duration?: string }; streams: Record<string, string | number | undefined>[] };
  return {
    duration: Number(out.format.duration ?? 0),
    streams: out.streams.map((s) => {
      const type = s.codec_type === "video" || s.codec_type === "audio" ? s.codec_type : "other";
      return {
        type,
        codec: String(s.codec_name),
        duration: Number(s.duration ?? out.format.duration ?? 0),
        ...(type === "video" ? { width: num(s.width), height: num(s.height), fps: ratio(s.avg_frame_rate as string), frames: num(s.nb_frames) } : {}),
        ...(type === "audio" ? { sampleRate: num(s.sample_rate), channels: num(s.channels) } : {}),
      };
    }),
  };
}

/**
 * Where the audio is not silent: the gaps between ffmpeg silencedetect's silences. `noiseDb`
 * is the level under which audio counts as silence, `minSilence` the shortest pause that
 * splits two intervals (shorter pauses between words stay inside one).
 */
export async function speechIntervals(file: string, opts: { noiseDb?: number; minSilence?: number } = {}): Promise<{ start: number; end: number }[]> {
  const { noiseDb = -40, minSilence = 0.4 } = opts;
  const info = await probe(file);
  const end = info.streams.find((s) => s.type === "audio")?.duration ?? info.duration;
  const dir = dirname(resolve(file));
  const { stderr } = await ffmpeg(dir, [
    "-loglevel", "info", "-nostats", ...inputArgs(dir, file), "-map", "0:a:0", "-af", `silencedetect=n=${noiseDb}dB:d=${minSilence}`, "-f", "null", "-",
  ], { work: "audio", seconds: end });
  const intervals: { start: number; end: number }[] = [];
  let from = 0;
  for (const m of stderr.matchAll(/silence_(start|end): (-?[\d.]+)/g)) {
    const t = Math.max(0, Number(m[2]));
    if (m[1] === "start") {
      if (t > from) intervals.push({ start: from, end: t });
      from = Infinity;
    } else from = t;
  }
  if (from < end) intervals.push({ start: from, end });
  return intervals;
}

// Audio assets: converted once, at upload.

/** Music and audio assets are stored in one checked format, converted once at upload: FLAC,
 * 48 kHz, stereo. Whatever reads them pins the demuxer (`-f flac`). */
export const STORED_AUDIO = { format: "flac", mime: "audio/flac", ext: "flac", sampleRate: 48000, channels: 2 } as const;

/** ffmpeg's demuxer for each audio type uploads accept (sniffed from the content, never guessed by ffmpeg). */
export const AUDIO_DEMUXERS: Record<string, string> = { "audio/mpeg": "mp3", "audio/wav": "wav", "audio/mp4": "mov" };

/** An uploaded audio file, `seconds` long at most, converted to STORED_AUDIO: the demuxer
 * pinned from its sniffed type, local files of its job directory only, within the limits of
 * audio work of that length (runMedia). */
export async function transcodeToStoredAudio(input: string, mime: string, output: string, seconds: number, signal?: AbortSignal): Promise<void> {
  const demuxer = AUDIO_DEMUXERS[mime];
  if (!demuxer) throw new Error(`no demuxer for ${mime}`);
  const dir = dirname(output);
  await ffmpeg(dir, [
    "-loglevel", "error", "-f", demuxer, "-protocol_whitelist", "file", "-i", nameIn(dir, input),
    "-map", "0:a:0", "-vn", "-sn", "-dn", "-ar", String(STORED_AUDIO.sampleRate), "-ac", String(STORED_AUDIO.channels),
    "-c:a", "flac", "-f", STORED_AUDIO.format, nameIn(dir, output),
  ], { work: "audio", seconds, signal });
}
