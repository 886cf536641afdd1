// Audio assets are converted once, at upload, to FLAC 48 kHz stereo: the demuxer pinned from
// the sniffed type, local files only (the limits that kill ffmpeg's process group are
// runMedia's, tested in media-limits.unit.test.ts).
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { probe, transcodeToStoredAudio } from "../packages/media/ffmpeg";

const dir = mkdtempSync(`${tmpdir()}/reelforge-audio-`);
const make = (name: string, args: string[]) => {
  execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", ...args, `${dir}/${name}`]);
  return `${dir}/${name}`;
};

describe("transcodeToStoredAudio", () => {
  it("converts MP3, WAV and M4A to FLAC 48 kHz stereo", async () => {
    const inputs: [string, string][] = [
      [make("mono.mp3", ["-f", "lavfi", "-i", "sine=frequency=330:duration=2:sample_rate=22050", "-c:a", "libmp3lame"]), "audio/mpeg"],
      [make("a.wav", ["-f", "lavfi", "-i", "sine=frequency=330:duration=2:sample_rate=96000"]), "audio/wav"],
      [make("a.m4a", ["-f", "lavfi", "-i", "sine=frequency=330:duration=2", "-c:a", "aac"]), "audio/mp4"],
    ];
    for (const [input, mime] of inputs) {
      await transcodeToStoredAudio(input, mime, `${input}.flac`, 2);
      const facts = await probe(`${input}.flac`);
      expect(facts.streams, mime).toEqual([expect.objectContaining({ type: "audio", codec: "flac", sampleRate: 48000, channels: 2 })]);
      expect(facts.duration).toBeCloseTo(2, 1);
    }
  });

  it("reads a playlist as what its type says, never as a playlist: no other file gets in", async () => {
    const secret = make("secret.wav", ["-f", "lavfi", "-i", "sine=frequency=330:duration=3"]);
    writeFileSync(`${dir}/list.mp3`, `#EXTM3U\n#EXTINF:3,\nfile://${secret}\n#EXT-X-ENDLIST\n`);
    await expect(transcodeToStoredAudio(`${dir}/list.mp3`, "audio/mpeg", `${dir}/list.flac`, 3)).rejects.toThrow(/ffmpeg failed/);
  });
});
