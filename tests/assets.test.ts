// Assets on the local stack: upload (multipart), probe, list by type and tags with pages,
// content checks, another user's asset, in-use deletes, frames by content in the cache key.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { beforeEach, describe, expect, it } from "vitest";
import { call, env, FUNCTIONS, functionsMemoryGrowth, newUser, resetSims, sql, supabaseClient, type TestUser } from "./helpers";
import { finished, generate, scene } from "./movie-helpers";

/** A real media file made by ffmpeg (lavfi sources), read back as bytes. */
function media(name: string, args: string[]): Uint8Array {
  const file = `/tmp/reelforge-asset-${process.pid}-${name}`;
  execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", ...args, file]);
  return readFileSync(file);
}
const png = (colour = "green", size = "640x360") => media(`${colour}-${size}.png`, ["-f", "lavfi", "-i", `color=c=${colour}:s=${size}`, "-frames:v", "1"]);
const mp3 = () => media("tone.mp3", ["-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "libmp3lame", "-b:a", "128k"]);
const mp4 = () => media("clip.mp4", ["-f", "lavfi", "-i", "testsrc=size=320x568:rate=24", "-t", "2", "-pix_fmt", "yuv420p"]);

async function upload(user: TestUser, type: string, bytes: Uint8Array, fileName: string, metadata?: unknown) {
  const form = new FormData();
  form.set("file", new Blob([bytes]), fileName);
  form.set("type", type);
  if (metadata !== undefined) form.set("metadata", JSON.stringify(metadata));
  const res = await fetch(`${FUNCTIONS}/assets/upload`, { method: "POST", headers: { Authorization: `Bearer ${user.token}` }, body: form });
  return { status: res.status, body: await res.json() };
}

/** A real MP4 grown to `bytes` by a padding box after its index (a valid file ffmpeg reads). */
function paddedMp4(bytes: number): Uint8Array {
  const clip = mp4();
  const pad = new Uint8Array(bytes - clip.length);
  new DataView(pad.buffer).setUint32(0, pad.length);
  pad.set(new TextEncoder().encode("free"), 4);
  return new Uint8Array(Buffer.concat([clip, pad]));
}

async function assetCount(user: TestUser) {
  return (await sql`select count(*)::int as n from public.assets where user_id = ${user.id}`)[0].n;
}

beforeEach(async () => {
  await resetSims({ latency_ms: { jimeng: 600 } });
});

describe("assets", () => {
  it("upload, probe, list by type and tags with pages; the content decides the type; another user's asset is unusable", async () => {
    const user = await newUser();
    const image = await upload(user, "image", png("green", "640x360"), "logo.png", { name: "Logo", tags: ["brand", "logo"] });
    expect(image.status, JSON.stringify(image.body)).toBe(201);
    expect(image.body).toMatchObject({ type: "image", name: "Logo", tags: ["brand", "logo"], mimeType: "image/png", width: 640, height: 360 });
    expect(image.body.path).toMatch(new RegExp(`^${user.id}/`));
    const audio = await upload(user, "audio", mp3(), "bgm.mp3", { name: "background_music.mp3", tags: ["bgm", "chinese"] });
    // Audio is converted once, at upload, to the format the mixer reads: FLAC, 48 kHz, stereo.
    expect(audio.body).toMatchObject({ type: "audio", mimeType: "audio/flac", status: "ready", path: expect.stringMatching(/\.flac$/) });
    expect(audio.body.duration).toBeCloseTo(3, 0);
    const stored = `/tmp/reelforge-asset-${process.pid}-stored.flac`;
    writeFileSync(stored, Buffer.from(await (await fetch((await call(user.token, "GET", `assets/${audio.body.id}`)).body.url)).arrayBuffer()));
    const facts = JSON.parse(execFileSync("ffprobe", ["-v", "error", "-of", "json", "-show_entries", "format=format_name:stream=codec_name,sample_rate,channels", stored], { encoding: "utf8" }));
    expect(facts).toMatchObject({ format: { format_name: "flac" }, streams: [{ codec_name: "flac", sample_rate: "48000", channels: 2 }] });
    // A spec uses audio only once it is converted.
    await sql`update public.assets set status = 'processing' where id = ${audio.body.id}`;
    const early = await call(user.token, "POST", "video/quote", { projectName: "x", scenes: [scene("s1")], effects: { backgroundMusic: audio.body.id } });
    expect(early).toMatchObject({ status: 400, body: { error: { message: "effects.backgroundMusic: this asset is still being converted; try again in a few seconds" } } });
    await sql`update public.assets set status = 'ready' where id = ${audio.body.id}`;
    const video = await upload(user, "video", mp4(), "clip.mp4", { tags: ["bgm"] });
    expect(video.body).toMatchObject({ type: "video", name: "clip.mp4", width: 320, height: 568 });
    expect(video.body.duration).toBeCloseTo(2, 1);

    const all = await call(user.token, "GET", "assets?limit=2");
    expect(all.body).toMatchObject({ total: 3, page: 1, limit: 2, hasMore: true });
    expect(all.body.assets.map((a: any) => a.id)).toEqual([video.body.id, audio.body.id]);
    const page2 = await call(user.token, "GET", "assets?limit=2&page=2");
    expect(page2.body).toMatchObject({ total: 3, hasMore: false, assets: [{ id: image.body.id }] });
    expect((await call(user.token, "GET", "assets?type=audio")).body.assets.map((a: any) => a.id)).toEqual([audio.body.id]);
    expect((await call(user.token, "GET", "assets?tags=bgm")).body.total).toBe(2);
    expect((await call(user.token, "GET", "assets?tags=bgm,chinese")).body.assets.map((a: any) => a.id)).toEqual([audio.body.id]);

    // An MP3 named .png and declared an image, and a text file: refused, nothing stored.
    const disguised = await upload(user, "image", mp3(), "photo.png");
    expect(disguised).toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST", message: expect.stringMatching(/content is an audio/) } } });
    const text = await upload(user, "image", new TextEncoder().encode("<html>not an image</html>"), "x.png");
    expect(text).toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST" } } });
    expect(await upload(user, "document", png(), "x.png")).toMatchObject({ status: 400 });
    expect(await assetCount(user)).toBe(3);

    // Another user can neither see nor use it; an audio asset is no first frame.
    const other = await newUser();
    expect((await call(other.token, "GET", `assets/${image.body.id}`)).status).toBe(404);
    const stolen = await call(other.token, "POST", "video/generate", { projectName: "x", scenes: [scene("s1", { duration: 5, firstFrame: image.body.id })] });
    expect(stolen).toMatchObject({ status: 404, body: { error: { code: "NOT_FOUND" } } });
    const wrongKind = await call(user.token, "POST", "video/quote", { projectName: "x", scenes: [scene("s1", { duration: 5, firstFrame: audio.body.id })] });
    expect(wrongKind.body.error.message).toMatch(/must be an image asset/);
    expect((await sql`select count(*)::int as n from public.generations where user_id = ${other.id}`)[0].n).toBe(0);
  });

  it("an asset a running task uses cannot be deleted; once the task ends it can", async () => {
    const user = await newUser();
    const frame = await upload(user, "image", png("red", "720x1280"), "red.png");
    await resetSims({ latency_ms: { jimeng: 3000 } });
    const created = await generate(user, { scenes: [scene("s1", { duration: 5, firstFrame: frame.body.id })] });
    const refused = await call(user.token, "DELETE", `assets/${frame.body.id}`);
    expect(refused).toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST", message: expect.stringContaining(created.taskId) } } });
    expect(await assetCount(user)).toBe(1);
    expect((await finished(user, created.taskId)).status).toBe("completed");
    expect(await call(user.token, "DELETE", `assets/${frame.body.id}`)).toMatchObject({ status: 200, body: { deleted: frame.body.id } });
    expect(await assetCount(user)).toBe(0);
    expect((await call(user.token, "GET", `assets/${frame.body.id}`)).status).toBe(404);
  });
});


describe("assets in the media cache", () => {
  it("a fixed-seed segment from an asset frame is reused for the same content only; the asset list answers 304 when unchanged", async () => {
    const user = await newUser();
    const [blue, blueAgain, red] = [await upload(user, "image", png("blue", "720x1280"), "a.png"), await upload(user, "image", png("blue", "720x1280"), "b.png"),
      await upload(user, "image", png("red", "720x1280"), "c.png")];
    const segment = async (frame: string) => {
      const res = await call(user.token, "POST", "video/segment", { segmentId: "s", prompt: "a lantern", model: "jimeng_i2v_first_v30", firstFrame: frame, parameters: { seed: 7 } });
      return (await finished(user, res.body.taskId)).metrics.cacheHits;
    };
    expect(await segment(blue.body.id)).toBe(0);
    expect(await segment(blueAgain.body.id)).toBe(1); // another asset, the same pixels
    expect(await segment(red.body.id)).toBe(0);

    const list = () => fetch(`${FUNCTIONS}/assets?type=image`, { headers: { Authorization: `Bearer ${user.token}`, ...etag } });
    let etag: Record<string, string> = {};
    const first = await list();
    etag = { "If-None-Match": first.headers.get("etag")! };
    expect((await list()).status).toBe(304);
    await call(user.token, "DELETE", `assets/${red.body.id}`);
    expect((await list()).status).toBe(200);
  });
});

describe("uploads: bounded memory, checked content", () => {
  it("five maximum-size uploads at once stream to Storage: the functions grow by a few MB, not by the files", async () => {
    const user = await newUser();
    const video = paddedMp4(49 * 1024 * 1024);
    // Five smaller ones first: the process's heap settles at its working size.
    const warmUp = paddedMp4(10 * 1024 * 1024);
    const first = await Promise.all(Array.from({ length: 5 }, (_, i) => upload(user, "video", warmUp, `warm-up-${i}.mp4`)));
    expect(first.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    let answers: { status: number; body: any }[] = [];
    const memory = await functionsMemoryGrowth(async () => {
      answers = await Promise.all(Array.from({ length: 5 }, (_, i) => upload(user, "video", video, `big-${i}.mp4`)));
    });
    for (const a of answers) expect(a, JSON.stringify(a.body)).toMatchObject({ status: 201, body: { type: "video", size: video.length, width: 320, height: 568 } });
    console.log(`five 49 MB uploads at once: the functions grew by ${memory.growthMb} MB (peak ${memory.peakMb} MB)`);
    // What remains is garbage of read buffers, which V8 collects after 64 MB of them: never the files.
    expect(memory.growthMb, JSON.stringify(memory)).toBeLessThan(128);
    // Over the kind's limit: refused while it streams, nothing kept.
    const tooBig = await upload(user, "image", new Uint8Array(Buffer.concat([png(), new Uint8Array(11 * 1024 * 1024)])), "huge.png");
    expect(tooBig).toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST", message: "file: an image asset may be at most 10 MB" } } });
    expect(await assetCount(user)).toBe(10);
    const { data } = await supabaseClient(env.SERVICE_ROLE_KEY).storage.from("assets").list(user.id);
    expect(data?.length).toBe(10);
  });

  it("a PNG declaring 2^32-1 x 2^32-1 pixels, a playlist before MP3 frames, a 10 MHz WAV and a 0.3 s MP3 are refused with a 400", async () => {
    const user = await newUser();
    const huge = png("blue", "64x64");
    new DataView(huge.buffer, huge.byteOffset).setUint32(16, 2 ** 32 - 1);
    new DataView(huge.buffer, huge.byteOffset).setUint32(20, 2 ** 32 - 1);
    expect(await upload(user, "image", huge, "huge.png")).toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST", message: "file: it is 4294967295x4294967295 pixels; at most 16384 on a side" } } });
    const playlist = new TextEncoder().encode("#EXTM3U\n#EXTINF:10,\nfile:///etc/hostname\n#EXT-X-ENDLIST\n");
    const hls = await upload(user, "audio", new Uint8Array(Buffer.concat([playlist, mp3().subarray(0, 4096)])), "music.mp3");
    expect(hls).toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST", message: expect.stringMatching(/^file: not a supported/) } } });
    // Issue 26's 46-byte WAV: one sample at a declared 10 MHz (ffmpeg resampled it for hours).
    const wav = Buffer.alloc(46);
    wav.write("RIFF", 0); wav.writeUInt32LE(38, 4); wav.write("WAVEfmt ", 8); wav.writeUInt32LE(16, 16);
    wav.writeUInt16LE(1, 20); wav.writeUInt16LE(1, 22); wav.writeUInt32LE(10_000_000, 24); wav.writeUInt32LE(20_000_000, 28);
    wav.writeUInt16LE(2, 32); wav.writeUInt16LE(16, 34); wav.write("data", 36); wav.writeUInt32LE(2, 40);
    expect(await upload(user, "audio", wav, "a.wav")).toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST", message: "file: its sample rate is 10000000 Hz; audio must be 8 to 192 kHz" } } });
    const blip = media("blip.mp3", ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.3", "-c:a", "libmp3lame"]);
    expect(await upload(user, "audio", blip, "blip.mp3")).toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST", message: expect.stringMatching(/^file: it lasts 0\.3\d? s; audio must last at least 1 s$/) } } });
    expect(await assetCount(user)).toBe(0);
  });

  it("files put in Storage directly and named by path meet the upload rules: size checked before reading, content checked", async () => {
    const user = await newUser();
    const storage = supabaseClient(user.token).storage.from("assets");
    const put = async (name: string, bytes: Uint8Array, contentType: string) => {
      const { error } = await storage.upload(`${user.id}/${name}`, bytes, { contentType });
      expect(error).toBeNull();
      return `${user.id}/${name}`;
    };
    const big = new Uint8Array(Buffer.concat([png("red", "720x1280"), new Uint8Array(45 * 1024 * 1024)]));
    const [first, last] = [await put("first.png", big, "image/png"), await put("last.png", big, "image/png")];
    const frames = await call(user.token, "POST", "video/quote", { projectName: "x", scenes: [scene("s1", { duration: 5, firstFrame: first, lastFrame: last })] });
    expect(frames).toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST", message: "scenes.0.firstFrame: an image may be at most 10 MB; this file is 45.0 MB" } } });
    const playlist = new TextEncoder().encode("#EXTM3U\n#EXTINF:10,\nfile:///etc/hostname\n#EXT-X-ENDLIST\n");
    const music = await put("music", new Uint8Array(Buffer.concat([playlist, mp3().subarray(0, 4096)])), "audio/mpeg");
    const hls = await call(user.token, "POST", "video/quote", { projectName: "x", scenes: [scene("s1")], effects: { backgroundMusic: music } });
    expect(hls).toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST", message: expect.stringMatching(/^effects.backgroundMusic: name an audio asset/) } } });
    const disguised = await put("frame.png", mp3(), "image/png");
    const wrong = await call(user.token, "POST", "video/quote", { projectName: "x", scenes: [scene("s1", { duration: 5, firstFrame: disguised })] });
    expect(wrong.body.error.message).toBe("scenes.0.firstFrame must be an image; this file is an audio (audio/mpeg)");
    const fine = await put("ok.png", png("red", "720x1280"), "image/png");
    expect((await call(user.token, "POST", "video/quote", { projectName: "x", scenes: [scene("s1", { duration: 5, firstFrame: fine })] })).status).toBe(200);
  });

  it("a user's files are held to the storage quota, uploads through the API and straight to Storage alike; direct uploads meet the rate limit", async () => {
    const user = await newUser();
    const selfies = supabaseClient(user.token).storage.from("selfies");
    const photo = new Uint8Array(Buffer.concat([png("red", "64x64"), new Uint8Array(2 * 1024 * 1024)]));
    const [settings] = await sql`select storage_quota_bytes, api_requests_per_minute, api_burst from engine.settings`;
    try {
      await sql`update engine.settings set storage_quota_bytes = ${3 * 1024 * 1024}`;
      expect((await selfies.upload(`${user.id}/a.png`, photo, { contentType: "image/png" })).error).toBeNull();
      expect((await upload(user, "image", photo, "b.png")).status).toBe(201);
      // 4 MB stored of 3 MB: nothing more, by either door.
      expect((await selfies.upload(`${user.id}/c.png`, photo, { contentType: "image/png" })).error).toMatchObject({ statusCode: "403" });
      expect(await upload(user, "image", png(), "d.png")).toMatchObject({ status: 402, body: { error: { code: "QUOTA_EXCEEDED", message: "Your files take 5 MB of your 3 MB of storage: delete some before adding more" } } });
      expect(await assetCount(user)).toBe(1);
      // Another user is unaffected; direct uploads take requests from the per-user rate limit.
      await sql`update engine.settings set storage_quota_bytes = ${settings.storage_quota_bytes}, api_requests_per_minute = 1, api_burst = 2`;
      const other = await newUser();
      const theirs = supabaseClient(other.token).storage.from("selfies");
      const results = [];
      const small = png();
      for (const name of ["1", "2", "3"]) results.push((await theirs.upload(`${other.id}/${name}.png`, small, { contentType: "image/png" })).error?.statusCode ?? "ok");
      expect(results).toEqual(["ok", "ok", "403"]);
    } finally {
      await sql`update engine.settings set storage_quota_bytes = ${settings.storage_quota_bytes}, api_requests_per_minute = ${settings.api_requests_per_minute}, api_burst = ${settings.api_burst}`;
    }
  });
});

