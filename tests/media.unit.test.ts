// The movie pipeline's ffmpeg side on real files made here with ffmpeg and espeak-ng: what a
// viewer would notice (size, length, frames, speech where the scenes start, loudness, the
// watermark) and that the join copies the segments' video instead of encoding it again.
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergeMovie, normalizeSegment, PLATFORM_PRESETS, probe, speechIntervals } from "../packages/media/ffmpeg";

const exec = promisify(execFile);
const FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const SCENES = 6;
const preset = PLATFORM_PRESETS.douyin;
let dir: string;
const at = (name: string) => join(dir, name);

const ffmpeg = (args: string[]) => exec("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args], { maxBuffer: 64 << 20 });

/** At most two ffmpeg runs at a time: the machine has two cores. */
async function twoAtATime<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all([0, 1].map(async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  }));
  return results;
}

/** A provider-like clip: moving test pattern with the scene's number, H.264 ultrafast, small. */
function makeClip(file: string, size: string, frames: number, label: string) {
  return ffmpeg([
    "-f", "lavfi", "-i", `testsrc2=s=${size}:r=24,drawtext=fontfile=${FONT}:text=${label}:fontsize=120:fontcolor=white:x=(w-text_w)/2:y=h/3`,
    "-frames:v", String(frames), "-c:v", "libx264", "-preset", "ultrafast", "-crf", "35", "-pix_fmt", "yuv420p", file,
  ]);
}

/** Frame `n` (or its `crop`) as 8-bit grey or RGB pixels. */
async function pixels(file: string, n: number, crop = "iw:ih:0:0", format: "gray" | "rgb24" = "gray") {
  const { stdout } = await exec("ffmpeg", [
    "-hide_banner", "-loglevel", "error", "-i", file, "-vf", `select=eq(n\\,${n}),format=${format},crop=${crop}`, "-frames:v", "1", "-f", "rawvideo", "-",
  ], { encoding: "buffer", maxBuffer: 64 << 20 });
  return stdout;
}
const mean = (b: Buffer) => b.reduce((s, x) => s + x, 0) / b.length;
const meanAbsDiff = (a: Buffer, b: Buffer) => a.reduce((s, x, i) => s + Math.abs(x - b[i]), 0) / a.length;

/** Integrated loudness and true peak as ffmpeg's EBU R128 meter reports them. */
async function loudness(file: string) {
  const { stderr } = await exec("ffmpeg", ["-hide_banner", "-nostats", "-i", file, "-map", "0:a", "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"]);
  const summary = stderr.slice(stderr.lastIndexOf("Summary:"));
  return { lufs: Number(summary.match(/I:\s+(-?[\d.]+) LUFS/)![1]), truePeak: Number(summary.match(/Peak:\s+(-?[\d.]+|-inf) dBFS/)![1]) };
}

/** RMS level (dB) of a stretch of the audio, optionally high-passed (the music's 12.5 kHz tone: the TTS voice stops at 11 kHz). */
async function level(file: string, from: number, to: number, highpass?: number) {
  const filters = [`atrim=${from}:${to}`, ...(highpass ? [`highpass=f=${highpass}:poles=2`, `highpass=f=${highpass}:poles=2`] : []), "volumedetect"];
  const { stderr } = await exec("ffmpeg", ["-hide_banner", "-nostats", "-i", file, "-map", "0:a", "-af", filters.join(","), "-f", "null", "-"]);
  return Number(stderr.match(/mean_volume: (-?[\d.]+|-inf) dB/)![1]);
}

/** Each video packet's size and MD5, in order. */
async function videoPackets(file: string) {
  const { stdout } = await exec("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=size,data_hash", "-show_data_hash", "MD5", "-of", "csv=p=0", file], { maxBuffer: 64 << 20 });
  return stdout.trim().split("\n");
}

const segments = Array.from({ length: SCENES }, (_, i) => `seg${i + 1}.mp4`);
const narrationSeconds: number[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelforge-media-test-"));
  const words = ["one", "two", "three", "four", "five", "six"];
  await twoAtATime([
    // What the provider delivers: 241 frames of 1088x1920 at 24 fps for a 10 s scene.
    ...words.map((w, i) => () => makeClip(at(`clip${i + 1}.mp4`), "1088x1920", 241, `Scene ${i + 1}`)),
    ...words.map((w, i) => async () => {
      await exec("espeak-ng", ["-w", at(`n${i + 1}.wav`), `Scene ${w}. The little monk walks to the temple and smiles.`]);
      await ffmpeg(["-i", at(`n${i + 1}.wav`), "-c:a", "libmp3lame", "-b:a", "64k", at(`n${i + 1}.mp3`)]);
    }),
    () => makeClip(at("short5.mp4"), "1088x1920", 121, "Five"),
    // Brightening from black over its 96 frames: the last frame differs from all the others.
    () => ffmpeg(["-f", "lavfi", "-i", "color=white:s=1088x1920:r=24,fade=t=in:s=0:n=96", "-frames:v", "96", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", at("short4.mp4")]),
    () => makeClip(at("small.mp4"), "720x1280", 72, "Small"),
    // 16:9 with green bands at both sides: a centred cover crop cuts them off, a stretch or a letterbox keeps them.
    () => ffmpeg([
      "-f", "lavfi", "-i", "color=white:s=1920x1080:r=24,drawbox=x=0:y=0:w=400:h=1080:color=green:t=fill,drawbox=x=1520:y=0:w=400:h=1080:color=green:t=fill",
      "-frames:v", "48", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", at("wide.mp4"),
    ]),
    // Music: a 7 s loop (so it must repeat) of low chords plus a 12.5 kHz tone, above anything in the voice, to follow its level.
    // FLAC, 48 kHz stereo: what uploads of music are transcoded to.
    () => ffmpeg([
      "-f", "lavfi", "-i", "aevalsrc=0.25*sin(2*PI*220*t)+0.2*sin(2*PI*330*t)+0.1*sin(2*PI*12500*t):s=48000:d=7",
      "-ac", "2", "-c:a", "flac", at("music.flac"),
    ]),
  ]);
  await exec("espeak-ng", ["-w", at("long.wav"), Array(6).fill("This narration goes on for longer than its scene lasts.").join(" ")]);
  await ffmpeg(["-i", at("long.wav"), "-c:a", "libmp3lame", "-b:a", "64k", at("long.mp3")]);
  for (let i = 1; i <= SCENES; i++) narrationSeconds.push((await probe(at(`n${i}.mp3`))).duration);
  await twoAtATime(segments.map((seg, i) => () =>
    normalizeSegment({
      input: at(`clip${i + 1}.mp4`), output: at(seg), width: 1080, height: 1920, fps: 24, seconds: 10,
      fadeIn: i === 0 ? 0.5 : 0, fadeOut: i === SCENES - 1 ? 0.5 : 0, watermark: null,
    })
  ));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const spec = { width: 1080, height: 1920, fps: 24, fadeIn: 0, fadeOut: 0, watermark: null };

describe("normalizeSegment", () => {
  it("makes the provider's 241-frame 1088x1920 clip exactly 240 frames of 1080x1920 at 24 fps", async () => {
    const out = await normalizeSegment({ ...spec, input: at("clip2.mp4"), output: at("check.mp4"), seconds: 10 });
    expect(out.frames).toBe(240);
    expect(out.seconds).toBeCloseTo(10, 3);
    const info = await probe(at("check.mp4"));
    expect(info.streams).toHaveLength(1);
    expect(info.streams[0]).toMatchObject({ type: "video", codec: "h264", width: 1080, height: 1920, fps: 24, frames: 240 });
  });

  it("cuts a 121-frame 5 s clip to exactly 120 frames", async () => {
    expect(await normalizeSegment({ ...spec, input: at("short5.mp4"), output: at("five.mp4"), seconds: 5 })).toEqual({ seconds: 5, frames: 120 });
  });

  it("pads a clip that is too short by holding its last frame", async () => {
    expect(await normalizeSegment({ ...spec, input: at("short4.mp4"), output: at("held.mp4"), seconds: 5 })).toEqual({ seconds: 5, frames: 120 });
    const [first, last, held] = await Promise.all([0, 95, 119].map((n) => pixels(at("held.mp4"), n)));
    expect(meanAbsDiff(last, held)).toBeLessThan(1);
    expect(meanAbsDiff(first, last)).toBeGreaterThan(100);
  });

  it("scales a 720x1280 clip up to 1080x1920", async () => {
    await normalizeSegment({ ...spec, input: at("small.mp4"), output: at("up.mp4"), seconds: 3 });
    expect((await probe(at("up.mp4"))).streams[0]).toMatchObject({ width: 1080, height: 1920, frames: 72 });
  });

  it("cover-crops a 16:9 clip around its centre, without bars or stretching", async () => {
    await normalizeSegment({ ...spec, input: at("wide.mp4"), output: at("cropped.mp4"), seconds: 2 });
    expect((await probe(at("cropped.mp4"))).streams[0]).toMatchObject({ width: 1080, height: 1920 });
    const row = await pixels(at("cropped.mp4"), 10, "1080:1:0:960", "rgb24");
    const column = await pixels(at("cropped.mp4"), 10, "1:1920:540:0", "rgb24");
    // Every pixel across the middle row and down the middle column is white: no green band, no black bar.
    expect(Math.min(...row)).toBeGreaterThan(200);
    expect(Math.min(...column)).toBeGreaterThan(200);
  });

  it("fades in from black when asked and not otherwise", async () => {
    expect(mean(await pixels(at("seg1.mp4"), 0))).toBeLessThan(20);
    expect(mean(await pixels(at("seg1.mp4"), 12))).toBeGreaterThan(40);
    expect(mean(await pixels(at("seg2.mp4"), 0))).toBeGreaterThan(40);
    expect(mean(await pixels(at(segments[SCENES - 1]), 239))).toBeLessThan(20);
  });

  it("burns the watermark into the bottom-right corner only, whatever filter syntax its text holds", async () => {
    await normalizeSegment({ ...spec, input: at("clip2.mp4"), output: at("marked.mp4"), seconds: 10, watermark: "ReelForge 'demo' %{pts} \\: ,;[x]" });
    const corner = "420:90:iw-440:ih-110";
    const [marked, plain] = await Promise.all([pixels(at("marked.mp4"), 100, corner), pixels(at("seg2.mp4"), 100, corner)]);
    const [markedTop, plainTop] = await Promise.all([pixels(at("marked.mp4"), 100, "420:90:0:0"), pixels(at("seg2.mp4"), 100, "420:90:0:0")]);
    expect(meanAbsDiff(marked, plain)).toBeGreaterThan(5);
    expect(meanAbsDiff(markedTop, plainTop)).toBeLessThan(1);
  });
});

describe("mergeMovie", () => {
  const sceneSeconds = Array(SCENES).fill(10);
  const merge = (output: string, narrated: boolean, music: string | null) =>
    mergeMovie({
      segments: segments.map(at), sceneSeconds, narrations: segments.map((_, i) => (narrated ? at(`n${i + 1}.mp3`) : null)),
      music, lufs: preset.lufs, truePeak: preset.truePeak, audioRate: preset.audioRate, audioBitrate: preset.audioBitrate,
      output: at(output), poster: at(`${output}.jpg`),
    });

  it("joins six 10 s scenes with narration into one 60 s 1080x1920 H.264/AAC movie, speech at each scene's start", async () => {
    expect((await merge("narrated.mp4", true, null)).seconds).toBeCloseTo(60, 1);
    const info = await probe(at("narrated.mp4"));
    expect(Math.abs(info.duration - 60)).toBeLessThan(0.1);
    expect(info.streams.map((s) => [s.type, s.codec])).toEqual([["video", "h264"], ["audio", "aac"]]);
    const [video, audio] = info.streams;
    expect(video).toMatchObject({ width: 1080, height: 1920, fps: 24, frames: 1440 });
    expect(Math.abs(video.duration - 60)).toBeLessThan(0.1);
    expect(Math.abs(audio.duration - 60)).toBeLessThan(0.1);
    expect(audio).toMatchObject({ sampleRate: 48000, channels: 2 });

    const speech = await speechIntervals(at("narrated.mp4"));
    for (let i = 0; i < SCENES; i++) {
      const start = i * 10;
      expect(speech.some((s) => Math.abs(s.start - start) < 0.3), `speech at ${start} s in ${JSON.stringify(speech)}`).toBe(true);
      // After the narration, silence until the next scene.
      const quietFrom = start + narrationSeconds[i] + 0.5;
      expect(speech.some((s) => s.end > quietFrom && s.start < start + 9.7), `silence from ${quietFrom} s`).toBe(false);
    }
    const poster = await probe(at("narrated.mp4.jpg"));
    expect(poster.streams[0]).toMatchObject({ codec: "mjpeg", width: 1080, height: 1920 });
  });

  it("copies the segments' video packets instead of encoding them again", async () => {
    const inputs = (await Promise.all(segments.map((s) => videoPackets(at(s))))).flat();
    const output = await videoPackets(at("narrated.mp4"));
    expect(output).toHaveLength(1440);
    expect(output).toEqual(inputs);
  });

  it("brings the narrated mix to the platform's loudness without clipping", async () => {
    const { lufs, truePeak } = await loudness(at("narrated.mp4"));
    expect(Math.abs(lufs - preset.lufs)).toBeLessThan(1.5);
    expect(truePeak).toBeLessThanOrEqual(preset.truePeak + 0.5);
  });

  it("loops the music under the whole movie, ducks it under speech and fades it out", async () => {
    expect((await merge("music.mp4", true, at("music.flac"))).seconds).toBeCloseTo(60, 1);
    const movie = at("music.mp4");
    const info = await probe(movie);
    expect(info.streams.map((s) => s.type)).toEqual(["video", "audio"]);
    const { lufs, truePeak } = await loudness(movie);
    expect(Math.abs(lufs - preset.lufs)).toBeLessThan(1.5);
    expect(truePeak).toBeLessThanOrEqual(preset.truePeak + 0.5);
    // The music's tone alone: under the narration (scene 2's first seconds), after it, and in the last scene (looped).
    const [underSpeech, alone, looped, end] = await Promise.all([
      level(movie, 10.5, 12.5, 11500), level(movie, 16, 19, 11500), level(movie, 55, 58, 11500), level(movie, 59.6, 60, 11500),
    ]);
    expect(alone - underSpeech).toBeGreaterThan(4);
    expect(Math.abs(looped - alone)).toBeLessThan(1.5);
    expect(alone - end).toBeGreaterThan(6);
  });

  it("cuts a narration longer than its scene at the scene's end, and leaves scenes without one silent", async () => {
    expect((await probe(at("long.mp3"))).duration).toBeGreaterThan(12);
    await mergeMovie({
      segments: [at("seg1.mp4"), at("seg2.mp4"), at("seg3.mp4")], sceneSeconds: [10, 10, 10], narrations: [null, at("long.mp3"), null], music: null,
      lufs: preset.lufs, truePeak: preset.truePeak, audioRate: preset.audioRate, audioBitrate: preset.audioBitrate,
      output: at("long.mp4"), poster: at("long.jpg"),
    });
    const info = await probe(at("long.mp4"));
    expect(Math.abs(info.duration - 30)).toBeLessThan(0.1);
    const speech = await speechIntervals(at("long.mp4"));
    expect(speech.length).toBeGreaterThan(0);
    expect(speech[0].start).toBeCloseTo(10, 0);
    expect(Math.max(...speech.map((s) => s.end))).toBeLessThan(20.1);
  });

  it("writes a silent AAC track when there is no narration and no music", async () => {
    expect((await merge("silent.mp4", false, null)).seconds).toBeCloseTo(60, 1);
    const info = await probe(at("silent.mp4"));
    expect(info.streams.map((s) => [s.type, s.codec])).toEqual([["video", "h264"], ["audio", "aac"]]);
    expect(Math.abs(info.streams[1].duration - 60)).toBeLessThan(0.1);
    expect(await level(at("silent.mp4"), 0, 60)).toBeLessThan(-80);
    expect((await stat(at("silent.mp4.jpg"))).size).toBeGreaterThan(0);
  });
});
