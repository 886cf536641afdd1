// The media worker and the drain loop against an attacker with an account: hostile music that
// used to cost ffmpeg minutes, a playlist that used to read the host's files, a cancel while
// ffmpeg runs, and one slow task that used to hold back another user's.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { beforeEach, describe, expect, it } from "vitest";
import { call, env, ledger, newUser, resetSims, ROOT, simKnobs, sql, supabaseClient, type TestUser, waitForTask } from "./helpers";
import { alive, mediaProcesses, playlistAsMp3, secretTone, tenMegahertzWav } from "./hostile-media";
import { finished, generate, scene, storeAsset } from "./movie-helpers";

const workerPid = () => Number(readFileSync(`${ROOT}.stack/media-worker.pid`, "utf8").trim());

/** Polls faster than waitFor: the processes and events it looks for last about a second. */
async function quickly<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const found = await check();
    if (found) return found;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeEach(async () => {
  await resetSims({ latency_ms: { jimeng: 600 } });
});

/** Hostile bytes as a ready audio asset, as if the upload's conversion had been bypassed: the
 * API refuses such a file named by path (first test), so what is tested is the worker's own
 * defence, which must hold whatever reaches it. */
async function bypassedMusic(user: TestUser, bytes: Uint8Array, extension: string, mime: string) {
  const path = await storeAsset(user, extension, bytes, mime);
  const byPath = await call(user.token, "POST", "video/generate", { projectName: "test", scenes: [scene("a", { duration: 5 })], effects: { backgroundMusic: path } });
  expect(byPath.body.error?.message).toMatch(/name an audio asset/);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const [asset] = await sql`insert into public.assets (user_id, type, name, path, mime, size_bytes, sha256, status)
    values (${user.id}, 'audio', 'hostile', ${path}, 'audio/flac', ${bytes.length}, ${sha256}, 'ready') returning id`;
  return asset.id as string;
}

describe("hostile music", () => {
  it("a 46-byte WAV declaring 10 MHz as the music: that movie fails within seconds, charged only for what started, no ffmpeg left; another user's movie meanwhile completes", async () => {
    const [attacker, other] = await Promise.all([newUser(), newUser()]);
    const music = await bypassedMusic(attacker, tenMegahertzWav(), "wav", "audio/wav");
    const hostile = await generate(attacker, { scenes: [scene("a", { duration: 5 })], effects: { backgroundMusic: music } });
    const honest = await generate(other, { scenes: [scene("b", { duration: 5 })] });

    const failed = await finished(attacker, hostile.taskId, 30_000);
    expect(failed).toMatchObject({ status: "failed", error: { code: "TASK_FAILED", message: "The background music cannot be used: it is not a FLAC file" } });
    const done = await finished(other, honest.taskId, 60_000);
    expect(done.status, JSON.stringify(done.error)).toBe("completed");
    // The failed soundtrack is refunded; the scene's video, started, stays charged (as on any failure).
    // Charged what started (the scene's video, if it did before the failure: the soundtrack is free), the rest released.
    const [run] = await sql`select credits_reserved, credits_charged from public.generations where id = ${hostile.taskId}`;
    const rows = await ledger(hostile.taskId);
    const total = (kind: string) => rows.filter((l) => l.startsWith(`1:${kind}:`)).reduce((sum, l) => sum + Number(l.split(":")[2]), 0);
    expect([total("reserve"), total("capture") - total("refund"), total("release")], rows.join()).toEqual([160, run.credits_charged, 160 - run.credits_charged]);
    expect(run.credits_charged === 0 || run.credits_charged === 150).toBe(true);
    const [balance] = await sql`select balance::int from public.credit_accounts where user_id = ${attacker.id}`;
    expect(balance.balance).toBe(10_000 - run.credits_charged);
    expect(mediaProcesses(workerPid())).toEqual([]);
  });

  it("an HLS playlist naming a file of the worker host, stored as the music: refused, the host's file never reaches a movie", async () => {
    const user = await newUser();
    const secret = `/tmp/reelforge-secret-${process.pid}.mp3`;
    secretTone(secret);
    const music = await bypassedMusic(user, playlistAsMp3(secret), "mp3", "audio/mpeg");
    const created = await generate(user, { scenes: [scene("a", { duration: 5 })], effects: { backgroundMusic: music } });
    const done = await finished(user, created.taskId, 60_000);
    // Read as HLS (before), the movie completed with the host's 1 kHz tone as its soundtrack.
    expect(done).toMatchObject({ status: "failed", error: { code: "TASK_FAILED", message: "The background music cannot be used: it is not a FLAC file" } });
  });
});

describe("cancel stops the media work", () => {
  it("a movie canceled while its ffmpeg runs (here frozen: it would never end): the ffmpeg is gone within 2 s of the 200, nothing retried or kept", async () => {
    const user = await newUser();
    const created = await generate(user, { scenes: [scene("a", { duration: 5 })] });
    const worker = workerPid();
    const ffmpeg = await quickly("a running ffmpeg of the worker, frozen", () => {
      const found = mediaProcesses(worker).find((p) => p.comm === "ffmpeg");
      try {
        if (found) process.kill(found.pid, "SIGSTOP");
      } catch {
        return undefined; // it ended meanwhile: wait for the next one
      }
      return found && alive(found.pid) ? found : undefined;
    });
    try {
      const canceled = await call(user.token, "DELETE", `task/${created.taskId}`);
      expect(canceled.status).toBe(200);
      expect(canceled.body.status).toBe("canceled");
      const at = Date.now();
      await quickly("the ffmpeg to be gone", () => !alive(ffmpeg.pid), 10_000).catch(() => {});
      expect(Date.now() - at).toBeLessThan(2_000);
    } finally {
      if (alive(ffmpeg.pid)) process.kill(ffmpeg.pid, "SIGKILL");
    }
    // The frozen ffmpeg's task (the soundtrack's or the segment's) ran once and ended canceled.
    const started = await sql`select status::text, attempt from engine.tasks where generation_id = ${created.taskId} and handler = 'media-worker' and attempt > 0`;
    expect(started.length).toBeGreaterThan(0);
    expect(started.every((t) => t.status === "canceled" && t.attempt === 1), JSON.stringify(started)).toBe(true);
    await quickly("the run's files to go", async () => {
      const { data } = await supabaseClient(env.SERVICE_ROLE_KEY).storage.from("outputs").list(created.taskId);
      return data?.length === 0;
    }, 10_000);
    expect(mediaProcesses(worker)).toEqual([]);
  });
});

describe("the drain loop", () => {
  it("one slow scene image (8 s) does not hold back another user's: it starts within a second of the usual claim time", async () => {
    await simKnobs({ latency_ms: { gemini_image: 8000 } });
    const [slowUser, nextUser] = await Promise.all([newUser(), newUser()]);
    const slow = await generate(slowUser, { scenes: [scene("a", { duration: 5, sceneImage: true })] });
    await waitForTask(slow.taskId, "scene_image", ["running"]);
    const next = await generate(nextUser, { scenes: [scene("b", { duration: 5, sceneImage: true })] });
    // From due (queued) to claimed (running), in the database's own times.
    const waited = async (generationId: string) => {
      const [e] = await sql`
        select extract(epoch from r.created_at - t.created_at) * 1000 as ms
        from engine.tasks t join public.generation_events r on r.generation_id = t.generation_id and r.step = t.step and r.status = 'running'
        where t.generation_id = ${generationId} and t.step = 'scene_image'`;
      return e && Number(e.ms);
    };
    const nextWaited = await quickly("the other scene image to start", () => waited(next.taskId), 20_000);
    const [stillSlow] = await sql`select status::text from engine.tasks where generation_id = ${slow.taskId} and step = 'scene_image'`;
    // The baseline: what the slow one waited, with nothing ahead of it, on this machine now.
    expect(nextWaited).toBeLessThan((await waited(slow.taskId)) + 1_000);
    expect(stillSlow.status).toBe("running");
    await Promise.all([call(slowUser.token, "DELETE", `task/${slow.taskId}`), call(nextUser.token, "DELETE", `task/${next.taskId}`)]);
  });
});
