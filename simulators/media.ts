// Real media for the simulators, made with ffmpeg and cached by content.
const CACHE = `${Deno.env.get("REELFORGE_STACK_DIR") ?? new URL("../.stack", import.meta.url).pathname}/sim-media`;
await Deno.mkdir(CACHE, { recursive: true });
const pending = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();

async function ffmpeg(args: string[]) {
  const out = await new Deno.Command("ffmpeg", { args: ["-hide_banner", "-loglevel", "error", "-y", ...args], stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`ffmpeg failed: ${new TextDecoder().decode(out.stderr)}`);
}

async function hash(data: Uint8Array<ArrayBuffer> | string) {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function cached(key: string, ext: string, make: (path: string) => Promise<void>) {
  const path = `${CACHE}/${key}.${ext}`;
  let p = pending.get(path);
  if (!p) {
    p = (async () => {
      try {
        return await Deno.readFile(path);
      } catch {
        const tmp = `${path}.${crypto.randomUUID()}.${ext}`;
        await make(tmp);
        await Deno.rename(tmp, path);
        return await Deno.readFile(path);
      }
    })();
    pending.set(path, p);
    p.catch(() => pending.delete(path));
  }
  return await p;
}

/** A gradient picture of the given size whose colours follow the prompt. */
export async function makeImage(prompt: string, width: number, height: number, format: "jpg" | "png") {
  const seed = parseInt((await hash(prompt)).slice(0, 6), 16);
  const c0 = (seed & 0xffffff).toString(16).padStart(6, "0");
  const c1 = ((seed * 7919) & 0xffffff).toString(16).padStart(6, "0");
  return await cached(`img-${c0}-${c1}-${width}x${height}`, format, (out) =>
    ffmpeg(["-f", "lavfi", "-i", `gradients=s=${width}x${height}:c0=0x${c0}:c1=0x${c1}:seed=${seed % 1000}`, "-frames:v", "1", out]));
}

/** The image re-encoded as PNG (what merge-face hands back). */
export async function toPng(image: Uint8Array<ArrayBuffer>) {
  const key = await hash(image);
  return await cached(`png-${key}`, "png", async (out) => {
    const src = `${out}.src`;
    await Deno.writeFile(src, image);
    try {
      await ffmpeg(["-i", src, "-frames:v", "1", out]);
    } finally {
      await Deno.remove(src).catch(() => {});
    }
  });
}

/** An H.264 MP4 of `seconds` seconds animating the first frame, at the frame's size (even). */
export async function makeVideo(frame: Uint8Array<ArrayBuffer>, seconds: number) {
  const key = await hash(frame);
  return await cached(`vid-${key}-${seconds}s`, "mp4", async (out) => {
    const src = `${out}.src`;
    await Deno.writeFile(src, frame);
    try {
      await ffmpeg([
        "-loop", "1", "-i", src, "-t", String(seconds), "-r", "24",
        "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2,fade=t=in:st=0:d=0.5,format=yuv420p",
        "-c:v", "libx264", "-preset", "ultrafast", "-movflags", "+faststart", out,
      ]);
    } finally {
      await Deno.remove(src).catch(() => {});
    }
  });
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
