// Hostile media files as an attacker would make them, and the ffmpeg processes they may leave
// behind (as /proc shows them). Needs no stack: unit tests use it too.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** 46 bytes: a WAV header declaring 10 MHz mono 16-bit, and one sample. It lasts 0.1 us, so
 * looping it to fill a soundtrack costs ffmpeg ~100 CPU s per second of output. */
export function tenMegahertzWav(): Uint8Array {
  const rate = 10_000_000;
  const bytes = new Uint8Array(46);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, text: string) => [...text].forEach((c, i) => (bytes[at + i] = c.charCodeAt(0)));
  ascii(0, "RIFF");
  view.setUint32(4, 38, true);
  ascii(8, "WAVEfmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true); // bytes per second
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  view.setUint32(40, 2, true);
  view.setInt16(44, 0x4000, true);
  return bytes;
}

/** An HLS playlist naming `secret` (a file of the host), followed by a second of silent MP3
 * frames: sniffers see MP3; ffmpeg left to guess reads it as HLS and plays `secret`. */
export function playlistAsMp3(secret: string): Uint8Array {
  const silence = execFileSync("ffmpeg", [
    "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "1", "-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3", "-",
  ]);
  const playlist = `#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3.0,\n${secret}\n#EXT-X-ENDLIST\n`;
  return new Uint8Array(Buffer.concat([Buffer.from(playlist), silence]));
}

/** A 3 s 1 kHz tone as MP3: the host's file a playlist should never bring into a movie. */
export function secretTone(file: string) {
  execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=f=1000:d=3", "-c:a", "libmp3lame", file]);
}

type Proc = { pid: number; ppid: number; comm: string; state: string };

function processes(): Proc[] {
  const all: Proc[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split at the last ')'.
      const close = stat.lastIndexOf(")");
      const [state, ppid] = stat.slice(close + 2).split(" ");
      all.push({ pid: Number(name), ppid: Number(ppid), comm: stat.slice(stat.indexOf("(") + 1, close), state });
    } catch {
      // Ended while we looked.
    }
  }
  return all;
}

/** The live (not zombie) ffmpeg and ffprobe processes under `ancestor`, at any depth. */
export function mediaProcesses(ancestor: number): Proc[] {
  const all = processes();
  const under = new Set([ancestor]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) {
      if (under.has(p.ppid) && !under.has(p.pid)) {
        under.add(p.pid);
        grew = true;
      }
    }
  }
  return all.filter((p) => under.has(p.pid) && p.pid !== ancestor && (p.comm === "ffmpeg" || p.comm === "ffprobe") && p.state !== "Z");
}

/** Whether a process still runs (a zombie does not). */
export function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1][0] !== "Z";
  } catch {
    return false;
  }
}
