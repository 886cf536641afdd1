// The ffmpeg wrapper against hostile media, on files made here: what is refused, which demuxer
// reads a file, and that a run over its limits or aborted is gone (with its process group) in
// bounded time. No stack needed.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inputArgs, limitsOf, mixAudio, PLATFORM_PRESETS, runMedia, speechIntervals } from "../packages/media/ffmpeg";
import { alive, mediaProcesses, playlistAsMp3, secretTone, tenMegahertzWav } from "./hostile-media";

const exec = promisify(execFile);
const ffmpeg = (args: string[]) => exec("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args]);
const preset = PLATFORM_PRESETS.douyin;
let dir: string;
const at = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelforge-media-limits-"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("hostile media: refused, read with the demuxer we name, stopped in bounded time", () => {
  const soundtrack = (output: string, narration: string | null, music: string | null) =>
    mixAudio({
      sceneSeconds: [5], narrations: [narration], music, lufs: preset.lufs, truePeak: preset.truePeak, audioRate: preset.audioRate,
      audioBitrate: preset.audioBitrate, output: at(output),
    });
  const refused = (why: RegExp) => ({ code: "TASK_FAILED", message: expect.stringMatching(why) });

  it("a 46-byte WAV declaring 10 MHz, given as the music, is refused at once instead of looped for minutes", async () => {
    await writeFile(at("hostile.flac"), tenMegahertzWav());
    const started = Date.now();
    await expect(soundtrack("hostile.m4a", null, at("hostile.flac"))).rejects.toMatchObject(refused(/^The background music cannot be used: it is not a FLAC file$/));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(mediaProcesses(process.pid)).toEqual([]);
  }, 20_000);

  it("FLAC music at 384 kHz, or shorter than a second, is refused", async () => {
    await ffmpeg(["-f", "lavfi", "-i", "sine=r=384000:d=2", "-c:a", "flac", at("fast.flac")]);
    await ffmpeg(["-f", "lavfi", "-i", "sine=r=48000:d=0.2", "-ac", "2", "-c:a", "flac", at("short.flac")]);
    await expect(soundtrack("fast.m4a", null, at("fast.flac"))).rejects.toMatchObject(refused(/sample rate 384000 Hz is outside 8-192 kHz/));
    await expect(soundtrack("short.m4a", null, at("short.flac"))).rejects.toMatchObject(refused(/it lasts 0.2 s, under 1 s/));
  });

  it("an HLS playlist inside an MP3 narration is played as MP3 (silence), never followed to the host's file; as the music it is refused", async () => {
    const secret = join(tmpdir(), `reelforge-secret-${process.pid}.mp3`);
    secretTone(secret);
    await writeFile(at("playlist.mp3"), playlistAsMp3(secret));
    await soundtrack("played.m4a", at("playlist.mp3"), null);
    expect(await speechIntervals(at("played.m4a"))).toEqual([]);
    await writeFile(at("playlist.flac"), playlistAsMp3(secret));
    await expect(soundtrack("playlist.m4a", null, at("playlist.flac"))).rejects.toMatchObject(refused(/not a FLAC file/));
    await rm(secret, { force: true });
  });

  it("a run over its CPU budget is stopped by the kernel with its process group and fails as TASK_FAILED, saying so", async () => {
    // What the mixer used to run on that WAV (unbounded loop, resampled), pinned to the WAV demuxer.
    await writeFile(at("hostile.wav"), tenMegahertzWav());
    const limit = { work: "audio" as const, seconds: 1 };
    const { cpuSeconds, wallSeconds } = limitsOf(limit);
    const started = Date.now();
    await expect(runMedia("ffmpeg", dir, ["-stream_loop", "-1", ...inputArgs(dir, at("hostile.wav")), "-af", "aresample=48000", "-t", "1", "-f", "null", "-"], limit))
      // The CPU limit, or on a machine too loaded to give it that much CPU in time, the wall clock.
      .rejects.toMatchObject(refused(new RegExp(`^The media took too long to process: ffmpeg was stopped after (${cpuSeconds} s of CPU|${wallSeconds} s) \\(the limit of audio work for 1 s of output\\)$`)));
    expect(Date.now() - started).toBeLessThan(wallSeconds * 1000 + 2_000);
    expect(mediaProcesses(process.pid)).toEqual([]);
  }, 60_000);

  it("an aborted run (its task canceled) is killed with its process group within 2 s", async () => {
    const stop = new AbortController();
    // Real time: it would run until its wall-clock limit.
    const run = runMedia("ffmpeg", dir, ["-re", "-f", "lavfi", "-i", "sine", "-f", "null", "-"], { work: "audio", seconds: 60, signal: stop.signal });
    const outcome = run.catch((err: Error) => err);
    let running = mediaProcesses(process.pid);
    while (!running.length) {
      await new Promise((r) => setTimeout(r, 20));
      running = mediaProcesses(process.pid);
    }
    const aborted = Date.now();
    stop.abort(new Error("canceled"));
    expect(await outcome).toMatchObject({ message: "canceled" });
    while (alive(running[0].pid) && Date.now() - aborted < 5_000) await new Promise((r) => setTimeout(r, 20));
    expect(Date.now() - aborted).toBeLessThan(2_000);
    expect(mediaProcesses(process.pid)).toEqual([]);
  });

  it("a file outside the job directory, or of a type with no named demuxer, is never given to ffmpeg", () => {
    expect(() => inputArgs(dir, "/etc/hostname.mp3")).toThrow(/outside its job directory/);
    expect(() => inputArgs(dir, at("music"))).toThrow(/no demuxer is known for music/);
    expect(inputArgs(dir, at("music.flac"))).toEqual(["-f", "flac", "-protocol_whitelist", "file", "-i", "music.flac"]);
  });
});
