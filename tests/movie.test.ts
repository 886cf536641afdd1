// The movie pipeline (MovieFlow) end to end on the local stack: the merged video as ffprobe
// sees it, frame modes, a content refusal and its retry, provider limits, cancel, a media
// worker killed mid-merge, and bad specs refused with nothing stored.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { beforeEach, describe, expect, it } from "vitest";
import { type ScriptedAnswer, scriptResponses } from "../stack/control.ts";
import { probe, speechIntervals } from "../packages/media/ffmpeg";
import {
  call, env, ledger, newUser, resetSims, ROOT, simStats, sql, supabaseClient, type TestUser, waitFor, waitForStatus, writeFile,
} from "./helpers";
import { download, finished, generate, scene, spoken, task, uploadFrame } from "./movie-helpers";

/** The mean colour of a video's frame at `at` seconds, as [r, g, b]. */
function colourAt(file: string, at: number): number[] {
  const raw = execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-ss", String(at), "-i", file, "-frames:v", "1",
    "-vf", "scale=1:1:flags=area", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]);
  return [...raw.subarray(0, 3)];
}

/** The Realtime broadcasts of one task on its owner's private topic, oldest first. */
async function broadcasts(user: TestUser, taskId: string) {
  return await sql<{ event: string; payload: any }[]>`
    select event, payload from realtime.messages
    where topic = ${"generations:" + user.id} and event in ('progress', 'status_change', 'error') and payload ->> 'taskId' = ${taskId}
    order by id`;
}

const script = (endpoint: string, responses: ScriptedAnswer[]) => scriptResponses(env.NOVITA_SIM_URL, endpoint, responses);

beforeEach(async () => {
  await resetSims({ latency_ms: { jimeng: 600 } });
});

describe("a 60 s movie", () => {
  it("6 scenes x 10 s with narration: 60 s, 1080x1920, 24 fps, one video and one audio stream, speech at each scene's start; quote = charge", async () => {
    const user = await newUser(10_000);
    const body = {
      scenes: ["s1", "s2", "s3", "s4", "s5", "s6"].map((id, i) => scene(id, spoken(`Scene ${i + 1}. The lanterns rise.`))),
      config: { platform: "douyin", aspectRatio: "9:16", resolution: "1080x1920", fps: 24, quality: "high" },
    };
    const quote = await call(user.token, "POST", "video/quote", { projectName: "test", ...body });
    expect(quote.body).toMatchObject({ estimatedCredits: 6 * 300 + 6 * 5 + 10 });
    const created = await generate(user, body);
    expect(created).toMatchObject({ status: "processing", credits: 1840, segments: expect.arrayContaining([{ id: "s1", status: "queued", progress: 0 }]) });

    const done = await finished(user, created.taskId);
    expect(done, JSON.stringify(done.error)).toMatchObject({ status: "completed", progress: 100, currentPhase: "completed", duration: expect.any(Number) });
    expect(done.segments.map((s: any) => [s.id, s.status, s.progress])).toEqual(["s1", "s2", "s3", "s4", "s5", "s6"].map((id) => [id, "completed", 100]));
    expect(done.logs.length).toBeGreaterThan(10);
    expect(done.logs.find((l: any) => l.message === "Merge completed")).toMatchObject({ level: "info" });

    const file = await download(done.videoUrl, `/tmp/reelforge-movie-${process.pid}.mp4`);
    const movie = await probe(file);
    expect(movie.duration).toBeGreaterThan(59.9);
    expect(movie.duration).toBeLessThan(60.1);
    expect(movie.streams.map((s) => s.type).sort()).toEqual(["audio", "video"]);
    expect(movie.streams.find((s) => s.type === "video")).toMatchObject({ codec: "h264", width: 1080, height: 1920, fps: 24 });
    expect(movie.streams.find((s) => s.type === "audio")!.codec).toBe("aac");
    const speech = await speechIntervals(file);
    for (let i = 0; i < 6; i++) {
      expect(speech.some((s) => Math.abs(s.start - i * 10) < 0.5), `speech at ${i * 10} s in ${JSON.stringify(speech)}`).toBe(true);
    }
    expect(await ledger(created.taskId)).toContain("1:reserve:1840");
    const [{ credits_charged }] = await sql`select credits_charged from public.generations where id = ${created.taskId}`;
    expect(credits_charged).toBe(1840);
    const poster = await fetch(done.posterUrl);
    expect(poster.headers.get("content-type")).toBe("image/jpeg");

    // MovieFlow's WebSocket messages, as broadcasts on the owner's private topic.
    const sent = await broadcasts(user, created.taskId);
    expect(sent.filter((m) => m.event === "status_change").map((m) => `${m.payload.oldStatus}>${m.payload.newStatus}`))
      .toEqual(["queued>processing", "processing>merging", "merging>completed"]);
    const progress = sent.filter((m) => m.event === "progress").map((m) => m.payload);
    expect(progress.at(-1)).toMatchObject({ type: "progress", taskId: created.taskId, data: { overall: 100, phase: "completed",
      segments: Object.fromEntries(["s1", "s2", "s3", "s4", "s5", "s6"].map((id) => [id, 100])) } });
    expect(progress.some((p) => p.data.phase === "generating_segments" && /of 6 scenes ready/.test(p.data.message))).toBe(true);
  });
});

describe("frames", () => {
  it("first-frame and first+last-frame scenes start (and end) on the user's images", async () => {
    const user = await newUser(10_000);
    const [red, blue] = [await uploadFrame(user, "red"), await uploadFrame(user, "blue")];
    const created = await generate(user, {
      scenes: [scene("first", { duration: 5, firstFrame: red }), scene("both", { duration: 5, firstFrame: red, lastFrame: blue })],
      effects: { transitions: false },
    });
    const done = await finished(user, created.taskId);
    expect(done.status, JSON.stringify(done.error)).toBe("completed");
    const first = await download(done.segments[0].videoUrl, `/tmp/reelforge-first-${process.pid}.mp4`);
    const both = await download(done.segments[1].videoUrl, `/tmp/reelforge-both-${process.pid}.mp4`);
    const [r, , b] = colourAt(first, 0);
    expect(r).toBeGreaterThan(180);
    expect(b).toBeLessThan(80);
    expect(colourAt(both, 0)[0]).toBeGreaterThan(180);
    expect(colourAt(both, 4.9)[2]).toBeGreaterThan(180);
  });
});

describe("faults", () => {
  it("a scene refused by the content check fails with CONTENT_VIOLATION naming it; retrying only that scene completes the movie", async () => {
    const user = await newUser(10_000);
    await script("jimeng-submit", [{ status: 400, body: { code: 50413, data: null, message: "Post Text Risk Not Pass", request_id: "r", status: 50413, time_elapsed: "1ms" } }]);
    const created = await generate(user, { scenes: [scene("a", { duration: 5 }), scene("b", { duration: 5 }), scene("c", { duration: 5 })] });
    const failed = await finished(user, created.taskId);
    expect(failed).toMatchObject({ status: "failed", error: { code: "CONTENT_VIOLATION" } });
    const refused = failed.segments.filter((s: any) => s.status === "failed");
    expect(refused).toHaveLength(1);
    expect(refused[0].error).toMatchObject({ code: "CONTENT_VIOLATION", message: expect.stringContaining("Risk") });
    expect(failed.logs.some((l: any) => l.level === "error" && l.message.includes(`Scene ${refused[0].id} failed`))).toBe(true);
    expect((await broadcasts(user, created.taskId)).find((m) => m.event === "error")?.payload).toMatchObject({
      type: "error", taskId: created.taskId, error: { segment: refused[0].id, code: "CONTENT_VIOLATION" },
    });

    const retried = await call(user.token, "POST", `task/${created.taskId}/retry`, { segmentIds: [refused[0].id], reason: "content_fixed" });
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    const done = await finished(user, created.taskId);
    expect(done.status, JSON.stringify(done.error)).toBe("completed");
    expect((await ledger(created.taskId)).filter((l) => l.startsWith("2:"))).toEqual(["2:reserve:160", "2:capture:150", "2:capture:10"]);
  });

  it("50429 and 50430 make segments wait for capacity, not fail", async () => {
    const user = await newUser(10_000);
    const limited = (code: number, message: string) => ({ status: 429, body: { code, data: null, message, request_id: "r", status: code, time_elapsed: "1ms" } });
    await script("jimeng-submit", [limited(50430, "Request Has Reached API Concurrent Limit, Please Try Later"), limited(50429, "Request Has Reached API Limit, Please Try Later")]);
    const created = await generate(user, { scenes: [scene("a", { duration: 5 }), scene("b", { duration: 5 })] });
    const done = await finished(user, created.taskId);
    expect(done.status, JSON.stringify(done.error)).toBe("completed");
    expect(done.logs.filter((l: any) => l.level === "warn" && /limit/i.test(l.message)).length).toBeGreaterThanOrEqual(1);
    const attempts = await sql`select attempt from engine.tasks where generation_id = ${created.taskId} and step = 'segment'`;
    expect(attempts.every((a) => a.attempt === 1)).toBe(true);
  });

  it("cancel mid-generation: nothing more is submitted, started segments stay charged, the rest is released", async () => {
    const user = await newUser(10_000);
    await resetSims({ latency_ms: { jimeng: 60_000 } });
    const created = await generate(user, { scenes: [scene("a"), scene("b")] });
    await waitFor("both segments at Jimeng", async () =>
      (await sql`select count(*)::int as n from engine.tasks where generation_id = ${created.taskId} and step = 'segment' and status = 'waiting'`)[0].n === 2);
    const before = (await simStats()).stats.jimeng_submissions ?? 0;
    const canceled = await call(user.token, "DELETE", `task/${created.taskId}`);
    expect(canceled.body).toMatchObject({ status: "canceled", segments: [{ status: "canceled" }, { status: "canceled" }] });
    const [g] = await sql`select credits_charged, credits_refunded from public.generations where id = ${created.taskId}`;
    expect(g.credits_charged).toBe(600);
    expect(await ledger(created.taskId)).toEqual(["1:reserve:610", "1:capture:300", "1:capture:300", "1:release:10"]);
    await sql`select engine.reconcile()`;
    expect((await simStats()).stats.jimeng_submissions ?? 0).toBe(before);
  });

  it("a media worker killed mid-merge: the merge runs again and the movie completes", async () => {
    const user = await newUser(10_000);
    const created = await generate(user, { scenes: [scene("a"), scene("b"), scene("c")] });
    const merging = await waitFor("the merge to run", async () => {
      const [t] = await sql`select id, status from engine.tasks where generation_id = ${created.taskId} and step = 'merge' and status = 'running'`;
      return t;
    }, 150_000);
    const pid = readFileSync(`${ROOT}.stack/media-worker.pid`, "utf8").trim();
    execFileSync("kill", ["-9", "--", `-${pid}`]);
    await waitFor("the worker to be gone", async () => {
      try {
        process.kill(Number(pid), 0);
        return false;
      } catch {
        return true;
      }
    });
    // The lease would lapse within 30 s; lapse it now and let reconcile see it.
    await sql`update engine.tasks set lease_until = now() - interval '1 second' where id = ${merging.id}`;
    await sql`select engine.reconcile()`;
    execFileSync("npm", ["run", "--silent", "stack", "--", "start"], { cwd: ROOT, stdio: "ignore" });
    const done = await finished(user, created.taskId);
    expect(done.status, JSON.stringify(done.error)).toBe("completed");
    const [merge] = await sql`select attempt from engine.tasks where generation_id = ${created.taskId} and step = 'merge'`;
    expect(merge.attempt).toBe(2);
    expect((await probe(await download(done.videoUrl, `/tmp/reelforge-killed-${process.pid}.mp4`))).duration).toBeCloseTo(30, 0);
  });
});

describe("bad specs are refused, nothing stored", () => {
  it("71 s, 7 scenes, duration 7, an empty prompt, another user's image", async () => {
    const user = await newUser(10_000);
    const other = await newUser(0);
    const theirs = await uploadFrame(other, "green");
    const cases: [Record<string, unknown>, number, string, RegExp][] = [
      [{ scenes: [...Array(7)].map((_, i) => scene(`s${i}`, { duration: i === 6 ? 5 : 10 })) }, 400, "INVALID_REQUEST", /at most 6 scenes|at most 60 s/],
      [{ scenes: [...Array(7)].map((_, i) => scene(`s${i}`, { duration: 5 })) }, 400, "INVALID_REQUEST", /at most 6 scenes/],
      [{ scenes: [scene("a", { duration: 7 })] }, 400, "INVALID_REQUEST", /scenes\.0\.duration: must be 5 or 10/],
      [{ scenes: [scene("a", { prompt: "  " })] }, 400, "INVALID_REQUEST", /scenes\.0\.prompt: must not be empty/],
      [{ scenes: [scene("a", { firstFrame: theirs })] }, 403, "FORBIDDEN", /firstFrame must be in your own folder/],
      [{ scenes: [scene("a", { audio: { text: "x".repeat(1025) } })] }, 400, "INVALID_REQUEST", /1024 bytes/],
      [{ scenes: [scene("a", { frames: 121 })] }, 400, "INVALID_REQUEST", /must be 241 for 10 s/],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await call(user.token, "POST", "video/generate", { projectName: "bad", ...body });
      expect(res.status, JSON.stringify(body).slice(0, 200)).toBe(status);
      expect(res.body.error).toMatchObject({ code, message: expect.stringMatching(message) });
    }
    expect((await sql`select count(*)::int as n from public.generations where user_id = ${user.id}`)[0].n).toBe(0);
    expect((await sql`select balance::int from public.credit_accounts where user_id = ${user.id}`)[0].balance).toBe(10_000);
  });
});

describe("segments alone", () => {
  it("POST video/segment: one segment, and a batch of up to 3, stored as Jimeng made them", async () => {
    const user = await newUser(10_000);
    const one = await call(user.token, "POST", "video/segment", {
      segmentId: "scene1", prompt: "a paper boat on a river", model: "jimeng_t2v_v30",
      parameters: { frames: 121, seed: -1, scale: 3.5, ddimSteps: 25, aspectRatio: "9:16" },
    });
    expect(one.status, JSON.stringify(one.body)).toBe(201);
    expect(one.body).toMatchObject({ taskId: expect.any(String), segmentId: "scene1", volcanoTaskId: null, estimatedTime: expect.any(Number) });
    const batch = await call(user.token, "POST", "video/segment", {
      batch: true, segments: [1, 2, 3].map((i) => ({ segmentId: `b${i}`, prompt: `shot ${i} of a paper boat` })),
    });
    expect(batch.body.segments.map((s: any) => s.segmentId)).toEqual(["b1", "b2", "b3"]);
    const tooMany = await call(user.token, "POST", "video/segment", {
      batch: true, segments: [1, 2, 3, 4].map((i) => ({ segmentId: `b${i}`, prompt: "x" })),
    });
    expect(tooMany.body.error).toMatchObject({ code: "INVALID_REQUEST", message: expect.stringContaining("at most 3") });

    const done = await finished(user, one.body.taskId);
    expect(done.status, JSON.stringify(done.error)).toBe("completed");
    const file = await download(done.segments[0].videoUrl, `/tmp/reelforge-segment-${process.pid}.mp4`);
    const segment = await probe(file);
    expect(segment.streams.find((s) => s.type === "video")).toMatchObject({ width: 720, height: 1280, frames: 121 });
    expect(await ledger(one.body.taskId)).toEqual(["1:reserve:100", "1:capture:100"]);
    expect((await finished(user, batch.body.taskId)).segments.every((s: any) => s.status === "completed")).toBe(true);
  });
});
