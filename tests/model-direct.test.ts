// The anime-video contract on kie.ai: pricing, validation, callbacks and polling, status
// shapes, characters and visibility.
import { beforeEach, describe, expect, it } from "vitest";
import { callbackSignature } from "../packages/shared/src/providers/kie";
import {
  call, env, ffprobe, ledger, newUser, resetSims, row, setNetDropRate, simKnobs, simStats, sql, type TestUser, uploadSelfie,
  waitForStatus, waitForTask, writeFile,
} from "./helpers";

const PRICES: [Record<string, unknown>, number][] = [
  [{ model_id: "wan/2.5", resolution: "720p", duration_seconds: 5 }, 300],
  [{ model_id: "wan/2.5", resolution: "720p", duration_seconds: 10 }, 600],
  [{ model_id: "wan/2.5", resolution: "1080p", duration_seconds: 5 }, 500],
  [{ model_id: "wan/2.5", resolution: "1080p", duration_seconds: 10 }, 1000],
  [{ model_id: "kling/video-v2.5", duration_seconds: 5 }, 210],
  [{ model_id: "kling/video-v2.5", duration_seconds: 10 }, 420],
  [{ model_id: "kling-3.0/video", mode: "std" }, 1050],
  [{ model_id: "kling-3.0/video", mode: "pro" }, 2100],
  [{ model_id: "sora-2", duration_seconds: 10 }, 30],
  [{ model_id: "sora-2", duration_seconds: 15 }, 40],
  [{ model_id: "sora-2-pro", quality: "standard", duration_seconds: 10 }, 180],
  [{ model_id: "sora-2-pro", quality: "standard", duration_seconds: 15 }, 270],
  [{ model_id: "sora-2-pro", quality: "high", duration_seconds: 10 }, 530],
  [{ model_id: "sora-2-pro", quality: "high", duration_seconds: 15 }, 800],
];

async function createTask(user: TestUser, body: Record<string, unknown>) {
  const res = await call(user.token, "POST", "anime-video/create-task", { prompt: "a fox spirit dancing under lanterns", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data as { generation_uuid: string; status: string; credits_cost: number };
}

const status = (user: TestUser, id: string) => call(user.token, "GET", `generation/status/${id}`);

beforeEach(async () => {
  await resetSims();
});

describe("pricing", () => {
  it("quotes every price row of the contract, and charges exactly the quote on completion", async () => {
    const user = await newUser(20_000);
    const created: [string, number][] = [];
    for (const [body, price] of PRICES) {
      const quote = await call(user.token, "POST", "anime-video/quote", body);
      expect(quote.body, JSON.stringify(body)).toMatchObject({ estimated_credits: price, explain: expect.stringContaining(`${price} MC`) });
      const task = await createTask(user, body);
      expect(task).toMatchObject({ status: "pending", credits_cost: price });
      created.push([task.generation_uuid, price]);
    }
    for (const [id, price] of created) {
      expect((await waitForStatus(id, ["completed", "failed"])).status).toBe("completed");
      expect(await ledger(id)).toEqual([`1:reserve:${price}`, `1:capture:${price}`]);
      expect((await status(user, id)).body.credits_used).toBe(price);
    }
    const total = PRICES.reduce((s, [, p]) => s + p, 0);
    const [{ balance }] = await sql`select balance::int from public.credit_accounts where user_id = ${user.id}`;
    expect(balance).toBe(20_000 - total);
  });

  it("a failed task refunds its price", async () => {
    await simKnobs({ task_fail_rate: 1 });
    const user = await newUser(5000);
    const { generation_uuid: id } = await createTask(user, { model_id: "kling-3.0/video", mode: "std" });
    const failed = await waitForStatus(id, ["completed", "failed"]);
    expect(failed).toMatchObject({ status: "failed", error_code: "TASK_FAILED" });
    expect(await ledger(id)).toEqual(["1:reserve:1050", "1:capture:1050", "1:refund:1050"]);
    expect((await status(user, id)).body).toMatchObject({ status: "failed", error_message: expect.stringContaining("failed"), credits_used: 0, results: [] });
  });
});

describe("validation", () => {
  const img = (n: number) => Array.from({ length: n }, (_, i) => `${env.API_URL}/storage/v1/object/sign/selfies/x/${i}.png?token=t`);
  const accepted: Record<string, unknown>[] = [
    { model_id: "kling-3.0/video", multi_shots: true, reference_image_urls: img(1) },
    { model_id: "kling-3.0/video", reference_image_urls: img(2), task_subtype: "image_to_video" },
    { model_id: "kling-3.0/video" },
    { model_id: "kling/video-v2.5", reference_image_urls: img(2) },
    { model_id: "wan/2.5", aspect_ratio: "1:1", resolution: "1080p", duration_seconds: 10 },
    { model_id: "sora-2", aspect_ratio: "portrait", reference_image_url: img(1)[0] },
    { model_id: "sora-2-pro", quality: "high", duration_seconds: 15 },
  ];
  const refused: [Record<string, unknown>, string][] = [
    [{ model_id: "kling-3.0/video", multi_shots: true }, "exactly one first-frame image"],
    [{ model_id: "kling-3.0/video", multi_shots: true, reference_image_urls: img(2) }, "exactly one first-frame image"],
    [{ model_id: "kling-3.0/video", reference_image_urls: img(3) }, "at most 2 reference images"],
    [{ model_id: "wan/2.5", multi_shots: true }, "multi_shots is not supported"],
    [{ model_id: "wan/2.5", reference_image_urls: img(2) }, "at most 1 reference image"],
    [{ model_id: "sora-2", aspect_ratio: "16:9" }, "aspect_ratio must be one of landscape, portrait"],
    [{ model_id: "sora-2", duration_seconds: 5 }, "duration_seconds must be one of 10, 15"],
    [{ model_id: "sora-2", quality: "high" }, "quality is not supported by Sora-2"],
    [{ model_id: "sora-2", resolution: "720p" }, "resolution is not supported"],
    [{ model_id: "kling/video-v2.5", mode: "pro" }, "mode is not supported"],
    [{ model_id: "kling-3.0/video", mode: "ultra" }, "mode must be one of std, pro"],
    [{ model_id: "wan/2.5", resolution: "4k" }, "resolution must be one of 720p, 1080p"],
    [{ model_id: "wan/2.5", task_subtype: "image_to_video" }, "image_to_video needs a reference image"],
    [{ model_id: "wan/2.5", task_subtype: "text_to_video", reference_image_url: img(1)[0] }, "text_to_video takes no reference image"],
    [{ model_id: "veo-3" }, "model_id"],
    [{ model_id: "wan/2.5", reference_image_url: "http://169.254.169.254/latest/meta-data" }, "https"],
    [{ model_id: "wan/2.5", reference_image_url: "https://127.0.0.1/cat.png" }, "public address"],
    [{ model_id: "wan/2.5", reference_image_url: "https://[::1]/cat.png" }, "public address"],
    [{ model_id: "wan/2.5", reference_image_url: "https://10.1.2.3/cat.png" }, "public address"],
  ];

  it("accepts what each model supports", async () => {
    const user = await newUser(0);
    for (const body of accepted) {
      const res = await call(user.token, "POST", "anime-video/quote", body);
      expect(res.status, JSON.stringify([body, res.body])).toBe(200);
    }
  });

  it("refuses everything else with an English message, and creates nothing", async () => {
    const user = await newUser(100_000);
    for (const [body, message] of refused) {
      const res = await call(user.token, "POST", "anime-video/create-task", { prompt: "p", ...body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toMatchObject({ code: "INVALID_REQUEST", message: expect.stringContaining(message) });
    }
    expect((await sql`select count(*)::int as n from public.generations where user_id = ${user.id}`)[0].n).toBe(0);
    const [{ balance }] = await sql`select balance::int from public.credit_accounts where user_id = ${user.id}`;
    expect(balance).toBe(100_000);
  });

  it("multi-shot sends only the first frame to kie", async () => {
    const user = await newUser();
    const selfie = await uploadSelfie(user);
    const signed = await call(user.token, "POST", "anime-video/characters", { name: "Aiko", reference_image_path: selfie });
    expect(signed.status).toBe(201);
    const { generation_uuid: id } = await createTask(user, { model_id: "kling-3.0/video", multi_shots: true, character_uuid: signed.body.data.id });
    const r = await waitForStatus(id, ["waiting", "completed"]);
    const record = await kieRecord(r.provider_task_id);
    const param = JSON.parse(record.param);
    expect(param.model).toBe("kling-3.0");
    expect(param.input).toMatchObject({ multi_shots: true, image_urls: [expect.stringContaining("/storage/v1/object/sign/selfies/")] });
    expect(param.input.image_urls).toHaveLength(1);
  });
});

async function kieRecord(taskId: string) {
  const res = await fetch(`${env.KIE_SIM_URL}/api/v1/jobs/recordInfo?taskId=${taskId}`, { headers: { Authorization: "Bearer sim-kie-key" } });
  return (await res.json()).data;
}

describe("finishing kie tasks", () => {
  it("a callback finishes the task, and the stored video has the model's frame", async () => {
    const user = await newUser();
    const { generation_uuid: id } = await createTask(user, { model_id: "wan/2.5", aspect_ratio: "9:16", duration_seconds: 5 });
    expect((await waitForStatus(id, ["completed", "failed"])).status).toBe("completed");
    expect((await simStats()).stats.webhooks_delivered).toBeGreaterThan(0);
    const res = await status(user, id);
    expect(res.body).toMatchObject({ uuid: id, status: "completed", error_message: null, credits_used: 300 });
    const video = await fetch(res.body.results[0].video_url);
    const file = `/tmp/reelforge-kie-${id}.mp4`;
    writeFile(file, new Uint8Array(await video.arrayBuffer()));
    expect(ffprobe(file)).toMatchObject({ width: 720, height: 1280 });
  });

  it("polling alone finishes the task when callbacks are lost", async () => {
    await simKnobs({ webhook_drop_rate: 1 });
    const user = await newUser();
    const { generation_uuid: id } = await createTask(user, { model_id: "sora-2" });
    expect((await waitForStatus(id, ["completed", "failed"], 100_000)).status).toBe("completed");
    expect((await simStats()).stats.webhooks_delivered ?? 0).toBe(0);
  });

  it("with signing on, a forged or unsigned callback changes nothing", async () => {
    await simKnobs({ webhook_drop_rate: 1, latency_ms: { kie: 4000 } });
    const user = await newUser();
    const { generation_uuid: id } = await createTask(user, { model_id: "sora-2" });
    const waiting = await waitForTask(id, "video", ["waiting"]);
    const url = `generation/webhook?token=${waiting.webhook_token}`;
    const body = { code: 501, msg: "Playground task failed.", data: { taskId: waiting.provider_task_id, state: "fail" } };
    const ts = String(Math.floor(Date.now() / 1000));
    const forged = await callbackSignature("not-the-key", waiting.provider_task_id, ts);
    const stale = String(Math.floor(Date.now() / 1000) - 3600);
    const attempts = [
      {},
      { "X-Webhook-Timestamp": ts, "X-Webhook-Signature": forged },
      { "X-Webhook-Timestamp": stale, "X-Webhook-Signature": await callbackSignature("sim-kie-hmac-key", waiting.provider_task_id, stale) },
    ];
    for (const headers of attempts) {
      const res = await call(null, "POST", url, body, headers);
      expect(res).toMatchObject({ status: 401, body: { error: { code: "UNAUTHORIZED" } } });
    }
    const signed = { "X-Webhook-Timestamp": ts, "X-Webhook-Signature": await callbackSignature("sim-kie-hmac-key", waiting.provider_task_id, ts) };
    expect((await call(null, "POST", url, body, signed)).body).toMatchObject({ code: 200, msg: "success" });
    const after = await row(id);
    expect(after.task_status).toBe("waiting");
    expect((await waitForStatus(id, ["completed", "failed"], 100_000)).status).toBe("completed");
  });
});

describe("status shapes", () => {
  it("pending, processing, completed and failed", async () => {
    const user = await newUser();
    setNetDropRate(1);
    let id: string;
    try {
      ({ generation_uuid: id } = await createTask(user, { model_id: "sora-2" }));
      expect((await status(user, id)).body).toEqual({ uuid: id, status: "pending", state: "processing", progress: 0, results: [], error_message: null, credits_used: 0 });
    } finally {
      setNetDropRate(0);
    }
    await sql`select engine.reconcile()`;
    await simKnobs({ latency_ms: { kie: 3000 } });
    await sql`update engine.tasks set wake_at = now() - interval '1 minute' where generation_id = ${id}`;
    await sql`select engine.reconcile()`;
    await waitForTask(id, "video", ["waiting"]);
    // Metered: the submitted kie task's price is captured once it started.
    expect((await status(user, id)).body).toMatchObject({ status: "processing", results: [], credits_used: 30 });
    await waitForStatus(id, ["completed"]);
    expect((await status(user, id)).body).toMatchObject({
      status: "completed", state: "completed", results: [{ video_url: expect.stringMatching(/^http/), poster_url: null }], credits_used: 30,
    });
  });
});

describe("characters and visibility", () => {
  it("a character's reference image is used when no image is given", async () => {
    const user = await newUser();
    const selfie = await uploadSelfie(user);
    const character = await call(user.token, "POST", "anime-video/characters", { name: "Ren", reference_image_path: selfie });
    const { generation_uuid: id } = await createTask(user, { model_id: "wan/2.5", character_uuid: character.body.data.id });
    const r = await row(id);
    expect(r.inputs).toMatchObject({ task_subtype: "image_to_video", character_image_path: selfie, image_urls: [] });
    const waiting = await waitForTask(id, "video", ["waiting", "completed"]);
    const param = JSON.parse((await kieRecord(waiting.provider_task_id)).param);
    expect(param).toMatchObject({ model: "wan/2-5-image-to-video", input: { image_url: expect.stringContaining("/storage/v1/object/sign/selfies/") } });

    const other = await newUser();
    const stolen = await call(other.token, "POST", "anime-video/create-task", { prompt: "p", model_id: "wan/2.5", character_uuid: character.body.data.id });
    expect(stolen).toMatchObject({ status: 404, body: { error: { code: "NOT_FOUND" } } });
    const foreignImage = await call(other.token, "POST", "anime-video/characters", { name: "Thief", reference_image_path: selfie });
    expect(foreignImage).toMatchObject({ status: 403, body: { error: { code: "FORBIDDEN" } } });
  });

  it("private videos are invisible to others; public ones appear in the gallery", async () => {
    const owner = await newUser();
    const other = await newUser();
    const priv = (await createTask(owner, { model_id: "sora-2", visibility_level: "private" })).generation_uuid;
    const pub = (await createTask(owner, { model_id: "sora-2", visibility_level: "public" })).generation_uuid;
    await waitForStatus(priv, ["completed"]);
    await waitForStatus(pub, ["completed"]);
    expect((await status(other, priv))).toMatchObject({ status: 404, body: { error: { code: "NOT_FOUND" } } });
    const gallery = await call(other.token, "GET", "generation/gallery?limit=100");
    const ids = gallery.body.data.map((g: { uuid: string }) => g.uuid);
    expect(ids).toContain(pub);
    expect(ids).not.toContain(priv);
    const item = gallery.body.data.find((g: { uuid: string }) => g.uuid === pub);
    expect(Object.keys(item).sort()).toEqual(["completed_at", "pipeline", "poster_url", "uuid", "video_url"]);
    expect((await fetch(item.video_url)).status).toBe(200);
  });

  it("every endpoint but the webhook needs a signed-in user", async () => {
    for (const [method, path] of [["POST", "anime-video/create-task"], ["POST", "anime-video/quote"], ["POST", "anime-video/optimize-prompt"],
      ["GET", `generation/status/${crypto.randomUUID()}`], ["GET", "generation/gallery"]]) {
      const res = await call(env.ANON_KEY, method, path, method === "POST" ? {} : undefined);
      expect(res.status, path).toBe(401);
    }
  });

  it("optimize-prompt returns the original, the optimized prompt and the improvements", async () => {
    const user = await newUser();
    const res = await call(user.token, "POST", "anime-video/optimize-prompt", { prompt: "cat samurai", style: "anime", duration: "5s" });
    expect(res.body).toMatchObject({
      success: true,
      data: { original_prompt: "cat samurai", optimized_prompt: expect.stringContaining("cat samurai"), improvements: expect.any(Array) },
    });
  });
});

