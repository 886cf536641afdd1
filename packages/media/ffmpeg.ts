// The media worker's ffmpeg work: normalise each segment as it arrives (the only video
// encode), then join without re-encoding video and mix the audio. Runs under Deno (the
// worker) and Node (tests): node:child_process and node:fs only.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
const FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

export type Platform = "douyin" | "wechat" | "bilibili";

/**
 * Per platform. All three feeds are vertical 1080x1920. No platform publishes a loudness
 * target: Douyin and Bilibili get the common streaming target (-14 LUFS integrated, -1 dBTP,
 * as YouTube and TikTok), WeChat Channels, watched mostly with phone speakers in chats, a
 * gentler -16 LUFS. AAC 48 kHz stereo.
 */
export const PLATFORM_PRESETS: Record<Platform, { width: number; height: number; fps: number; lufs: number; truePeak: number; audioRate: number; audioBitrate: string }> = {
  douyin: { width: 1080, height: 1920, fps: 24, lufs: -14, truePeak: -1, audioRate: 48000, audioBitrate: "160k" },
  wechat: { width: 1080, height: 1920, fps: 24, lufs: -16, truePeak: -1, audioRate: 48000, audioBitrate: "128k" },
  bilibili: { width: 1080, height: 1920, fps: 24, lufs: -14, truePeak: -1, audioRate: 48000, audioBitrate: "192k" },
};

async function ffmpeg(args: string[]): Promise<string> {
  try {
    const { stderr } = await exec("ffmpeg", ["-hide_banner", "-nostdin", "-y", ...args], { maxBuffer: 64 << 20 });
    return stderr;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ffmpeg failed: ${(e.stderr ?? e.message).split("\n").filter(Boolean).slice(-3).join(" | ")}`);
  }
}

async function inTemp<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "reelforge-ffmpeg-"));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export type SegmentSpec = {
  input: string; output: string; width: number; height: number; fps: number; seconds: number;
  fadeIn: number; fadeOut: number; watermark: string | null;
};

/**
 * One segment on the platform's canvas, ready to be joined without re-encoding: cover-scaled
 * and centre-cropped, resampled to `fps`, exactly `seconds * fps` frames (a short input holds
 * its last frame), fades from and to black, the watermark burned in. Every segment gets the
 * same encoder settings (libx264 ultrafast, CRF 20, closed 1 s GOPs, no scene cuts,
 * yuv420p) in MPEG-TS, so the concat demuxer joins them with `-c copy`. ultrafast: the last
 * segment's normalisation is on the critical path (anchors.md: 2.9 s vs 5.5 s for veryfast).
 */
export async function normalizeSegment(spec: SegmentSpec): Promise<{ seconds: number; frames: number }> {
  const frames = Math.round(spec.seconds * spec.fps);
  return await inTemp(async (dir) => {
    const filters = [
      "setpts=PTS-STARTPTS",
      `scale=${spec.width}:${spec.height}:force_original_aspect_ratio=increase:flags=bicubic`,
      `crop=${spec.width}:${spec.height}`,
      "setsar=1",
      `fps=${spec.fps}`,
      `tpad=stop_mode=clone:stop_duration=${spec.seconds}`,
      `trim=end_frame=${frames}`,
    ];
    if (spec.fadeIn > 0) filters.push(`fade=t=in:st=0:d=${spec.fadeIn}`);
    if (spec.fadeOut > 0) filters.push(`fade=t=out:st=${spec.seconds - spec.fadeOut}:d=${spec.fadeOut}`);
    if (spec.watermark) {
      await writeFile(join(dir, "watermark.txt"), spec.watermark);
      const size = Math.round(spec.height / 48);
      filters.push(`drawtext=fontfile=${FONT}:textfile=${join(dir, "watermark.txt")}:expansion=none:fontsize=${size}:` +
        `fontcolor=white@0.55:shadowcolor=black@0.4:shadowx=2:shadowy=2:x=w-text_w-${size}:y=h-text_h-${size * 2}`);
    }
    filters.push("format=yuv420p");
    await ffmpeg([
      "-i", spec.input, "-an", "-vf", filters.join(","), "-frames:v", String(frames),
      "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-profile:v", "high",
      "-g", String(spec.fps), "-keyint_min", String(spec.fps), "-sc_threshold", "0", "-bf", "0",
      "-f", "mpegts", spec.output,
    ]);
    const p = await probe(spec.output);
    return { seconds: frames / spec.fps, frames: p.streams.find((s) => s.type === "video")?.frames ?? frames };
  });
}

export type MergeSpec = {
  segments: string[];
  sceneSeconds: number[];
  narrations: (string | null)[];
  music: string | null;
  lufs: number; truePeak: number; audioRate: number; audioBitrate: string;
  output: string;
  poster: string;
};

/** The audio graph: narrations at their scenes' starts (cut at their ends), music looped
 * under them and ducked by a sidechain while anyone speaks, loudness-normalised, exactly
 * `total` seconds. Inputs from index 1 (0 is the joined video). */
function audioGraph(spec: MergeSpec, total: number): { inputs: string[]; graph: string } {
  const inputs: string[] = [];
  const parts: string[] = [];
  const fmt = `aresample=${spec.audioRate},aformat=sample_fmts=fltp:channel_layouts=stereo`;
  const voices: string[] = [];
  let start = 0;
  spec.narrations.forEach((file, i) => {
    const slot = spec.sceneSeconds[i];
    if (file) {
      inputs.push("-i", file);
      const ms = Math.round(start * 1000);
      parts.push(`[${countInputs(inputs)}:a]${fmt},atrim=0:${slot},afade=t=out:st=${Math.max(0, slot - 0.15)}:d=0.15,adelay=${ms}|${ms}[v${i}]`);
      voices.push(`[v${i}]`);
    }
    start += slot;
  });
  if (voices.length) parts.push(`${voices.join("")}amix=inputs=${voices.length}:normalize=0:dropout_transition=0,apad[speech]`);
  if (spec.music) {
    inputs.push("-stream_loop", "-1", "-i", spec.music);
    const fadeAt = Math.max(0, total - 2);
    parts.push(`[${countInputs(inputs)}:a]${fmt},atrim=0:${total},volume=0.6,afade=t=out:st=${fadeAt}:d=2[music]`);
    if (voices.length) {
      parts.push("[speech]asplit[say][key]");
      parts.push("[music][key]sidechaincompress=threshold=0.03:ratio=8:attack=15:release=350[ducked]");
      parts.push("[say][ducked]amix=inputs=2:normalize=0:duration=longest[mix]");
    } else parts.push("[music]anull[mix]");
  } else if (voices.length) parts.push("[speech]anull[mix]");
  else parts.push(`anullsrc=r=${spec.audioRate}:cl=stereo[mix]`);
  parts.push(`[mix]loudnorm=I=${spec.lufs}:TP=${spec.truePeak}:LRA=11,${fmt},apad,atrim=0:${total}[aout]`);
  return { inputs, graph: parts.join(";") };
}

/** Input index of the last `-i` in a list of ffmpeg input arguments (the video is 0). */
function countInputs(args: string[]): number {
  return args.filter((a) => a === "-i").length;
}

/**
 * The movie: normalised segments joined by the concat demuxer with the video copied (no
 * re-encode), the audio mixed and encoded as AAC, `+faststart`, exactly the scenes' total
 * length; and a poster from the middle of the first scene.
 */
export async function mergeMovie(spec: MergeSpec): Promise<{ seconds: number }> {
  const total = spec.sceneSeconds.reduce((a, b) => a + b, 0);
  return await inTemp(async (dir) => {
    const list = join(dir, "segments.txt");
    await writeFile(list, spec.segments.map((s) => `file '${s.replaceAll("'", "'\\''")}'`).join("\n") + "\n");
    const audio = audioGraph(spec, total);
    await ffmpeg([
      "-f", "concat", "-safe", "0", "-i", list, ...audio.inputs,
      "-filter_complex", audio.graph, "-map", "0:v", "-map", "[aout]",
      "-c:v", "copy", "-c:a", "aac", "-b:a", spec.audioBitrate, "-ar", String(spec.audioRate),
      "-t", String(total), "-movflags", "+faststart", spec.output,
    ]);
    await ffmpeg(["-ss", String(spec.sceneSeconds[0] / 2), "-i", spec.output, "-frames:v", "1", "-q:v", "3", spec.poster]);
    return { seconds: (await probe(spec.output)).duration };
  });
}

export type Stream = {
  type: "video" | "audio"; codec: string; width?: number; height?: number; fps?: number; frames?: number;
  duration: number; sampleRate?: number; channels?: number;
};
export type Probe = { duration: number; streams: Stream[] };

export async function probe(file: string): Promise<Probe> {
  const { stdout } = await exec("ffprobe", ["-v", "error", "-count_packets", "-print_format", "json", "-show_streams", "-show_format", file], { maxBuffer: 16 << 20 });
  const out = JSON.parse(stdout);
  const rate = (r: string | undefined) => {
    const [n, d] = (r ?? "0/1").split("/").map(Number);
    return d ? Math.round((n / d) * 1000) / 1000 : 0;
  };
  return {
    duration: Number(out.format.duration),
    streams: (out.streams as Record<string, any>[]).filter((s) => s.codec_type === "video" || s.codec_type === "audio").map((s) => ({
      type: s.codec_type,
      codec: s.codec_name,
      duration: Number(s.duration ?? out.format.duration),
      ...(s.codec_type === "video"
        ? { width: s.width, height: s.height, fps: rate(s.avg_frame_rate), frames: Number(s.nb_read_packets ?? s.nb_frames) }
        : { sampleRate: Number(s.sample_rate), channels: s.channels }),
    })),
  };
}

/** Where sound is (ffmpeg silencedetect): the stretches between silences of `minSilence` s
 * below `noiseDb` dB. */
export async function speechIntervals(file: string, opts: { noiseDb?: number; minSilence?: number } = {}): Promise<{ start: number; end: number }[]> {
  const stderr = await ffmpeg(["-i", file, "-map", "0:a", "-af", `silencedetect=noise=${opts.noiseDb ?? -35}dB:d=${opts.minSilence ?? 0.3}`, "-f", "null", "-"]);
  const total = (await probe(file)).duration;
  const sounds: { start: number; end: number }[] = [];
  let from = 0;
  let silent = false;
  for (const m of stderr.matchAll(/silence_(start|end): ([\d.]+)/g)) {
    const at = Number(m[2]);
    if (m[1] === "start" && at - from > 0.05) sounds.push({ start: from, end: at });
    if (m[1] === "end") from = at;
    silent = m[1] === "start";
  }
  if (!silent && total - from > 0.05) sounds.push({ start: from, end: total });
  return sounds;
}
