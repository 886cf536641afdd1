// Movie authoring on the local stack: templates with variables, batches, the media cache,
// conditional GETs and metrics (assets: tests/assets.test.ts).
import { beforeEach, describe, expect, it } from "vitest";
import { probe } from "../packages/media/ffmpeg";
import { call, FUNCTIONS, functionsMemoryGrowth, ledger, newUser, resetSims, simStats, sql, waitFor } from "./helpers";
import { download, finished, generate, scene, spoken } from "./movie-helpers";

beforeEach(async () => {
  await resetSims({ latency_ms: { jimeng: 600 } });
});

describe("templates", () => {
  it("tang-monk with variables renders and generates a 60 s movie; missing and unknown variables are refused by name", async () => {
    const user = await newUser();
    const list = await call(user.token, "GET", "video/templates");
    expect(list.body.templates.map((t: any) => t.slug)).toEqual(expect.arrayContaining(["tang-monk", "product-intro"]));

    const missing = await call(user.token, "POST", "video/generate", { template: "tang-monk", variables: { city: "洛阳" } });
    expect(missing).toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST", message: "Missing template variables: hobby", details: { missing: ["hobby"] } } } });
    const unknown = await call(user.token, "POST", "video/generate", { template: "tang-monk", variables: { hobby: "念经", mood: "x" } });
    expect(unknown.body.error.message).toMatch(/^Unknown template variables: mood/);
    expect(await call(user.token, "POST", "video/generate", { template: "no-such" })).toMatchObject({ status: 404 });
    expect((await sql`select count(*)::int as n from public.generations where user_id = ${user.id}`)[0].n).toBe(0);

    const created = await generate(user, { template: "tang-monk", variables: { city: "洛阳", hobby: "念经和散步" } });
    const [{ inputs }] = await sql`select inputs from public.generations where id = ${created.taskId}`;
    expect(inputs.narrations[1].text).toBe("洛阳真热闹，可贫僧还是孤身一人");
    expect(inputs.narrations[3].text).toBe("女施主，贫僧平时喜欢念经和散步");
    expect(inputs.scenes[1].prompt).toContain("洛阳");
    const done = await finished(user, created.taskId, 240_000);
    expect(done.status, JSON.stringify(done.error)).toBe("completed");
    const movie = await probe(await download(done.videoUrl, `/tmp/reelforge-tang-monk-${process.pid}.mp4`));
    expect(movie.duration).toBeGreaterThan(59.9);
    expect(movie.duration).toBeLessThan(60.1);
  });

  it("product-intro repeats a scene per feature; a user's own template is saved, listed, used, and checked first", async () => {
    const user = await newUser();
    const quote = await call(user.token, "POST", "video/quote", { template: "product-intro", variables: { product_name: "智能助手", features: ["AI对话", "任务管理"] } });
    expect(quote.status, JSON.stringify(quote.body)).toBe(200);
    expect(quote.body.estimatedCredits).toBe(4 * 300 + 4 * 5 + 10);

    const spec = { projectName: "{{name}} teaser", scenes: [{ forEach: "shots", id: "shot{{index}}", prompt: "{{name}}: {{item}}", duration: 5 }] };
    const saved = await call(user.token, "PUT", "video/templates/teaser", { name: "Teaser", variables: { name: { type: "text" }, shots: { type: "list" } }, spec });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body).toMatchObject({ slug: "teaser", builtIn: false });
    expect((await call(user.token, "GET", "video/templates")).body.templates.map((t: any) => t.slug)).toContain("teaser");
    const other = await newUser();
    expect((await call(other.token, "GET", "video/templates/teaser")).status).toBe(404);

    const teaser = await call(user.token, "POST", "video/quote", { template: "teaser", variables: { name: "Fox", shots: ["a", "b", "c"] } });
    expect(teaser.body.explain).toMatch(/^1080p 5 s segment 150 MC \+ 1080p 5 s segment 150 MC \+ 1080p 5 s segment 150 MC \+ merge 10 MC/);

    const inconsistent = await call(user.token, "PUT", "video/templates/bad", { name: "Bad", spec: { projectName: "{{nope}}", scenes: [scene("s1")] } });
    expect(inconsistent.body.error.message).toMatch(/\{\{nope\}\} is not a declared variable/);
    const invalid = await call(user.token, "PUT", "video/templates/bad", { name: "Bad", spec: { projectName: "x", scenes: [scene("s1", { duration: 7 })] } });
    expect(invalid.body.error.message).toMatch(/^spec: rendered with sample values it is not a valid movie: scenes.0.duration/);
    expect(await call(user.token, "PUT", "video/templates/tang-monk", { name: "Mine", spec: { projectName: "x", scenes: [scene("s1")] } }))
      .toMatchObject({ status: 400 });
    expect((await sql`select count(*)::int as n from public.movie_templates where user_id = ${user.id}`)[0].n).toBe(1);
  });

  it("a template whose rendering would be huge is refused from its counts, before it is rendered", async () => {
    const user = await newUser();
    // 57 KB of placeholders that render to nothing with the sample values (an empty list),
    // and to ~230 MB with ten 200-character items in a 2 KB request.
    const spec = { projectName: "x", scenes: [scene("s1"), { forEach: "shots", id: "shot{{index}}", prompt: `x${"{{shots}}".repeat(5700)}`, duration: 5 }] };
    const saved = await call(user.token, "PUT", "video/templates/bomb", { name: "Bomb", variables: { shots: { type: "list", default: [] } }, spec });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    let quote: Awaited<ReturnType<typeof call>> | undefined;
    const memory = await functionsMemoryGrowth(async () => {
      quote = await call(user.token, "POST", "video/quote", { template: "bomb", variables: { shots: Array.from({ length: 10 }, (_, i) => `${i}`.repeat(200)) } });
    });
    expect(quote).toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST", message: expect.stringMatching(/^The template would render to .* MB; at most 1 MB/) } } });
    expect(memory.growthMb, JSON.stringify(memory)).toBeLessThan(32);
  });
});

describe("batches", () => {
  it("three specs in one call, followed by one call; another user's task is not held back by them", async () => {
    await sql`update engine.provider_capacity set max_in_flight = 2 where key = 'volcengine:jimeng'`;
    try {
      const a = await newUser();
      const b = await newUser();
      const specs = ["one", "two", "three"].map((name) => ({ projectName: name, scenes: [scene(`${name}-1`, { duration: 5 }), scene(`${name}-2`, { duration: 5 })] }));
      const batch = await call(a.token, "POST", "video/batch", { specs });
      expect(batch.status, JSON.stringify(batch.body)).toBe(201);
      expect(batch.body).toMatchObject({ parallel: true, credits: 3 * (2 * 150 + 10), tasks: specs.map((s) => ({ projectName: s.projectName })) });
      const theirs = await generate(b, { scenes: [scene("b-1", { duration: 5 })] });

      const followed = await waitFor("the batch to end", async () => {
        const res = await call(a.token, "GET", `video/batch/${batch.body.batchId}`);
        return ["completed", "failed"].includes(res.body.status) ? res.body : null;
      }, 240_000);
      expect(followed).toMatchObject({ status: "completed", progress: 100, counts: { completed: 3 } });
      expect(followed.tasks.every((t: any) => typeof t.videoUrl === "string")).toBe(true);
      expect((await finished(b, theirs.taskId)).status).toBe("completed");

      // Once B's segment could start, none of A's six took a slot before it: the next free
      // slot went to the user with less in flight (at most one claim that began before B's
      // task was committed may still pick A's).
      const events = await sql`select g.user_id, e.status, e.created_at as at from public.generation_events e
        join public.generations g on g.id = e.generation_id
        where e.step = 'segment' and e.status in ('queued', 'running') and g.user_id in (${a.id}, ${b.id}) order by e.created_at`;
      const bQueued = events.find((e) => e.user_id === b.id && e.status === "queued")!.at;
      const bStarted = events.find((e) => e.user_id === b.id && e.status === "running")!.at;
      // A claim starts its tasks in one transaction: they share its time.
      const aClaims = new Set(events.filter((e) => e.user_id === a.id && e.status === "running" && e.at > bQueued && e.at < bStarted)
        .map((e) => e.at.getTime()));
      expect(aClaims.size, JSON.stringify(events)).toBeLessThanOrEqual(1);
    } finally {
      await sql`update engine.provider_capacity set max_in_flight = 5 where key = 'volcengine:jimeng'`;
    }
  });

  it("parallel: false runs them one after another; a bad spec refuses the whole batch, naming it", async () => {
    const user = await newUser();
    const bad = await call(user.token, "POST", "video/batch", { specs: [{ projectName: "ok", scenes: [scene("s1", { duration: 5 })] }, { projectName: "bad", scenes: [] }] });
    expect(bad).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/^specs\.1: scenes/) } } });
    expect((await sql`select count(*)::int as n from public.generations where user_id = ${user.id}`)[0].n).toBe(0);

    const specs = [1, 2].map((i) => ({ projectName: `seq${i}`, scenes: [scene(`s${i}`, { duration: 5 })] }));
    const batch = await call(user.token, "POST", "video/batch", { specs, parallel: false });
    expect(batch.body.tasks.map((t: any) => t.status)).toEqual(["processing", "queued"]);
    await waitFor("the batch to end", async () => (await call(user.token, "GET", `video/batch/${batch.body.batchId}`)).body.status === "completed", 180_000);
    const [first, second] = await sql`select started_at, completed_at from public.generations where batch_id = ${batch.body.batchId} order by created_at`;
    expect(second.started_at.getTime()).toBeGreaterThanOrEqual(first.completed_at.getTime());
  });
});

describe("the media cache", () => {
  it("an identical segment with a fixed seed is reused: no provider call, nothing charged; another user gets their own", async () => {
    const user = await newUser();
    const body = { segmentId: "cached", prompt: "a blue lantern drifting", model: "jimeng_t2v_v30", parameters: { seed: 42 } };
    const first = await call(user.token, "POST", "video/segment", body);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect((await finished(user, first.body.taskId)).status).toBe("completed");

    const submitted = (await simStats()).stats.jimeng_submissions ?? 0;
    const again = await call(user.token, "POST", "video/segment", body);
    const done = await finished(user, again.body.taskId);
    expect(done).toMatchObject({ status: "completed", credits: { charged: 0 }, metrics: { cacheHits: 1, providerCalls: 0 } });
    expect((await simStats()).stats.jimeng_submissions ?? 0).toBe(submitted);
    expect(await ledger(again.body.taskId)).toEqual(["1:reserve:100", "1:capture:100", "1:refund:100"]);
    const a = await download(done.segments[0].videoUrl, `/tmp/reelforge-cached-${process.pid}.mp4`);
    expect((await probe(a)).duration).toBeCloseTo(121 / 24, 1);

    // A random seed is never reused; another user's identical request is theirs to pay.
    const random = await call(user.token, "POST", "video/segment", { ...body, parameters: { seed: -1 } });
    expect((await finished(user, random.body.taskId)).metrics.cacheHits).toBe(0);
    const other = await newUser();
    const theirs = await call(other.token, "POST", "video/segment", body);
    expect((await finished(other, theirs.body.taskId)).metrics).toMatchObject({ cacheHits: 0 });
  });

  it("a scene image for the same prompt is reused within 15 minutes", async () => {
    const user = await newUser();
    const spec = { scenes: [scene("s1", { duration: 5, sceneImage: { prompt: "a paper lantern", style: "cartoon" } })] };
    const first = await generate(user, spec);
    expect((await finished(user, first.taskId)).status).toBe("completed");
    const images = (await simStats()).stats.gemini_images ?? 0;
    const second = await generate(user, spec);
    const done = await finished(user, second.taskId);
    expect(done).toMatchObject({ status: "completed", metrics: { cacheHits: 1 } });
    expect((await simStats()).stats.gemini_images ?? 0).toBe(images);
    expect(done.credits.charged).toBe(150 + 10);
    await sql`update engine.media_cache set expires_at = now() - interval '1 second' where user_id = ${user.id} and kind = 'scene_image'`;
    const third = await generate(user, spec);
    expect((await finished(user, third.taskId)).metrics.cacheHits).toBe(0);
  });
});

describe("GET answers", () => {
  it("carry an ETag (304 when unchanged) and Cache-Control; a task's metrics add up", async () => {
    const user = await newUser();
    const created = await generate(user, { scenes: [scene("s1", { duration: 5, ...spoken("Hello there.") })] });
    const done = await finished(user, created.taskId);
    const get = (headers: Record<string, string> = {}) =>
      fetch(`${FUNCTIONS}/task/${created.taskId}`, { headers: { Authorization: `Bearer ${user.token}`, ...headers } });
    const first = await get();
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^W\/"[0-9a-f]{32}"$/);
    expect(first.headers.get("cache-control")).toBe("private, max-age=300");
    const again = await get({ "If-None-Match": etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");

    expect(done.metrics).toMatchObject({ cacheHits: 0, retries: 0, credits: { charged: 150 + 5 + 10 } });
    expect(Object.keys(done.metrics.phases).sort()).toEqual(["merge", "mix_audio", "narration", "normalize", "segment"]);
    expect(done.metrics.providerCalls).toBeGreaterThanOrEqual(2);
    expect(done.metrics.totalSeconds).toBeGreaterThan(done.metrics.phases.merge);
  });
});
