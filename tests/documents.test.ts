// The seed documents are tests (issue 25.1): every request example of the MovieFlow document is
// read out of the document's own text and sent as written (its /api/v1 paths under
// /functions/v1), with only the credentials ours. Where a provider's published contract forces
// a difference, the README says so beside the example and the test checks that difference.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { call, env, FUNCTIONS, ffprobe, newUser, resetSims, ROOT, sql, type TestUser, writeFile } from "./helpers";
import { download, finished, task } from "./movie-helpers";
import { standInProvider } from "./stand-in-provider";
import { mergeFace, seedreamTxt2Img, submitImageToVideo } from "../packages/shared/src/providers/novita";
import { JIMENG_MODELS, submitJimeng } from "../packages/shared/src/providers/volcengine";

const SEEDS = "/work/shared/seeds";
const seed = (prefix: string) => readFileSync(`${SEEDS}/${readdirSync(SEEDS).find((f) => f.startsWith(prefix))}`, "utf8");
const MOVIEFLOW = seed("002_");
const ANIME = seed("001_");
const CINEMATIC = seed("000_");

/** The fenced blocks of a document's section: the lines under `heading` up to the next heading
 * of the same or a higher level. */
export function sectionBlocks(doc: string, heading: string, lang = "json"): string[] {
  const lines = doc.split("\n");
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) throw new Error(`the document has no heading "${heading}"`);
  const level = heading.match(/^#+/)![0].length;
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && l.match(/^#+/)![0].length <= level);
  const section = lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
  return [...section.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)\\n\\s*```", "g"))].map((m) => m[1]);
}

/** The request body of an endpoint's section (the block after 请求体, the request body). */
function requestBody(doc: string, heading: string) {
  const section = doc.slice(doc.indexOf(heading));
  const after = section.slice(section.indexOf("**请求体"));
  return JSON.parse(after.match(/```json\n([\s\S]*?)\n```/)![1]);
}

/** The document's path `/api/v1/<path>` as ours under /functions/v1. */
const ours = (heading: string) => heading.replace(/^#+ (GET|POST|DELETE) \/api\/v1\//, "");

async function completedMovie(user: TestUser, body: Record<string, unknown>) {
  const res = await call(user.token, "POST", "video/generate", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const done = await finished(user, res.body.taskId);
  expect(done.status, JSON.stringify(done.error ?? done.segments)).toBe("completed");
  return done;
}

describe("the MovieFlow document's examples, as written", () => {
  it("POST video/generate: the tang-monk template beside its scenes merges by scene id, with chinese_traditional.mp3 from the music library", async () => {
    await resetSims();
    const user = await newUser();
    const heading = "#### POST /api/v1/video/generate";
    const body = requestBody(MOVIEFLOW, heading);
    expect(body).toMatchObject({ template: "tang-monk", effects: { backgroundMusic: "chinese_traditional.mp3" } });

    const res = await call(user.token, "POST", ours(heading), body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    // The document's answer: the task and one segment per scene given.
    // The document's answer (`processing`, or `queued` while the task waits for a slot).
    expect(["processing", "queued"]).toContain(res.body.status);
    expect(res.body).toMatchObject({ taskId: expect.any(String), estimatedTime: expect.any(Number), segments: [{ id: "scene1", status: "queued", progress: 0 }] });

    // The given scene1 over the template's scene1: the document's prompt and audio, 10 s.
    const [{ inputs }] = await sql`select inputs from public.generations where id = ${res.body.taskId}`;
    expect(inputs.scenes).toMatchObject([{ id: "scene1", prompt: "Q版唐僧站在寺庙前", duration: 10 }]);
    expect(inputs.narrations).toEqual([{ scene_id: "scene1", text: "贫僧刚从西天取经回来", voice: "male_soft", emotion: "humble" }]);
    // The library's track, as FLAC 48 kHz stereo in the owner's assets.
    expect(inputs.music_path).toBe(`${user.id}/music/chinese_traditional.flac`);

    const done = await finished(user, res.body.taskId);
    expect(done.status, JSON.stringify(done.error ?? done.segments)).toBe("completed");
    const file = await download(done.videoUrl, `/tmp/reelforge-doc-generate-${process.pid}.mp4`);
    expect(ffprobe(file)).toMatchObject({ width: 1080, height: 1920 });
    expect(ffprobe(file).duration).toBeCloseTo(10, 0);
  }, 120_000);

  it("the music library: every track name the document uses is in the public music bucket as FLAC 48 kHz stereo; an unknown name is NOT_FOUND", async () => {
    const names = [...MOVIEFLOW.matchAll(/"(?:backgroundMusic|name)":\s*"([a-z_]+)\.mp3"/g)].map((m) => m[1]);
    expect(names.sort()).toEqual(["background_music", "chinese_traditional"]);
    for (const name of names) {
      const res = await fetch(`${env.API_URL}/storage/v1/object/authenticated/music/${name}.flac`, { headers: { Authorization: `Bearer ${env.SERVICE_ROLE_KEY}` } });
      expect(res.status, name).toBe(200);
      const file = `/tmp/reelforge-music-${name}-${process.pid}.flac`;
      writeFile(file, new Uint8Array(await res.arrayBuffer()));
      const stream = JSON.parse(execFileSync("ffprobe", ["-v", "error", "-show_streams", "-of", "json", file], { encoding: "utf8" })).streams[0];
      expect(stream).toMatchObject({ codec_name: "flac", sample_rate: "48000", channels: 2 });
    }
    const user = await newUser();
    const unknown = await call(user.token, "POST", "video/quote", { projectName: "x", scenes: [{ id: "a", prompt: "a lantern", duration: 5 }], effects: { backgroundMusic: "no_such_track.mp3" } });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: "NOT_FOUND", message: expect.stringContaining('no track "no_such_track" in the music library') } } });
  });

  it("POST video/segment, one and the batch of `id` items: answered `submitted`", async () => {
    await resetSims();
    const user = await newUser();
    const heading = "#### POST /api/v1/video/segment";
    const one = await call(user.token, "POST", ours(heading), requestBody(MOVIEFLOW, heading));
    expect(one.status, JSON.stringify(one.body)).toBe(201);
    expect(one.body).toMatchObject({ segmentId: "scene1", status: "submitted", volcanoTaskId: null, estimatedTime: expect.any(Number) });

    const [batchBody] = sectionBlocks(MOVIEFLOW, "### 批量请求");
    const batch = await call(user.token, "POST", "video/segment", JSON.parse(batchBody));
    expect(batch.status, JSON.stringify(batch.body)).toBe(201);
    expect(batch.body.segments.map((s: { segmentId: string; status: string }) => `${s.segmentId} ${s.status}`))
      .toEqual(["scene1 submitted", "scene2 submitted", "scene3 submitted"]);
    const done = await finished(user, batch.body.taskId);
    expect(done.status).toBe("completed");
    expect(done.segments.map((s: { id: string }) => s.id)).toEqual(["scene1", "scene2", "scene3"]);
  }, 120_000);

  it("GET task, POST task/{id}/retry with the document's reason (kept in the logs), DELETE task", async () => {
    await resetSims();
    const user = await newUser();
    const retryHeading = "#### POST /api/v1/task/{taskId}/retry";
    const retry = requestBody(MOVIEFLOW, retryHeading);
    // A task with the scenes the example names.
    const movie = await completedMovie(user, { projectName: "retry", scenes: retry.segmentIds.map((id: string) => ({ id, prompt: `${id}: a paper lantern`, duration: 5 })) });

    // GET task answers the fields of the document's answer.
    const [answer] = sectionBlocks(MOVIEFLOW, "#### GET /api/v1/task/{taskId}");
    const shown = await call(user.token, "GET", `task/${movie.taskId}`);
    expect(shown.status).toBe(200);
    for (const key of Object.keys(JSON.parse(answer))) expect(shown.body, key).toHaveProperty(key);
    expect(shown.body.logs[0]).toEqual({ timestamp: expect.any(String), level: expect.any(String), message: expect.any(String) });

    const res = await call(user.token, "POST", ours(retryHeading).replace("{taskId}", movie.taskId), retry);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(["queued", "processing"]).toContain(res.body.status);
    expect(res.body.logs).toContainEqual({ timestamp: expect.any(String), level: "info", message: "Task retry requested: quality_check_failed (scene3, scene5)" });

    const deleteHeading = "#### DELETE /api/v1/task/{taskId}";
    const canceled = await call(user.token, "DELETE", ours(deleteHeading).replace("{taskId}", movie.taskId));
    expect(canceled.status, JSON.stringify(canceled.body)).toBe(200);
    expect(canceled.body.status).toBe("canceled");
    expect((await task(user, movie.taskId)).logs.map((l: { message: string }) => l.message)).toContain("Task retry requested: quality_check_failed (scene3, scene5)");
  }, 120_000);

  it("the CLI example `movieflow video-specify \"…\"` drafts a 60 s spec (bin/movieflow, --mock on the local stack)", async () => {
    const [example] = sectionBlocks(MOVIEFLOW, "### /video-specify - 视频规格定义", "bash").filter((b) => !b.includes("<description>"));
    expect(example).toMatch(/^movieflow video-specify "/);
    const out = `/tmp/reelforge-doc-spec-${process.pid}.json`;
    const printed = execFileSync("bash", ["-c", `${example.replace(/^movieflow /, "bin/movieflow ")} --mock --out ${out}`], { cwd: ROOT, encoding: "utf8" });
    expect(printed).toMatch(/6 scenes, 60 s/);
    const spec = JSON.parse(readFileSync(out, "utf8"));
    expect(spec.scenes.reduce((sum: number, s: { duration: number }) => sum + s.duration, 0)).toBe(60);
  });

  it("POST assets/upload with the document's form fields and GET assets with its query parameters", async () => {
    const user = await newUser();
    const heading = "#### POST /api/v1/assets/upload";
    const [form] = sectionBlocks(MOVIEFLOW, heading, "");
    // The document's form: `file: binary`, `type: "image" | "audio" | "video"`, `metadata: {…}`.
    const metadata = JSON.parse(form.slice(form.indexOf("metadata:") + "metadata:".length));
    expect(metadata).toEqual({ name: "background_music.mp3", tags: ["bgm", "chinese"] });
    const mp3 = `/tmp/reelforge-doc-bgm-${process.pid}.mp3`;
    execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=330:duration=2", "-c:a", "libmp3lame", mp3]);
    const body = new FormData();
    body.set("file", new Blob([readFileSync(mp3)], { type: "audio/mpeg" }), metadata.name);
    body.set("type", "audio");
    body.set("metadata", JSON.stringify(metadata));
    const res = await fetch(`${FUNCTIONS}/${ours(heading)}`, { method: "POST", headers: { Authorization: `Bearer ${user.token}` }, body });
    const uploaded = await res.json();
    expect(res.status, JSON.stringify(uploaded)).toBe(201);
    expect(uploaded).toMatchObject({ type: "audio", name: "background_music.mp3", tags: ["bgm", "chinese"] });

    // GET assets: `type`, `tags`, `page`, `limit`, the document's query parameters.
    const list = MOVIEFLOW.slice(MOVIEFLOW.indexOf("#### GET /api/v1/assets"));
    const params = [...list.slice(0, list.indexOf("## ", 10)).matchAll(/^- `(\w+)`:/gm)].map((m) => m[1]);
    expect(params).toEqual(["type", "tags", "page", "limit"]);
    const query = new URLSearchParams({ type: "audio", tags: "bgm,chinese", page: "1", limit: "10" });
    const found = await call(user.token, "GET", `assets?${query}`);
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect(found.body.assets.map((a: { id: string }) => a.id)).toEqual([uploaded.id]);
  });
});

/** The request example of one of the anime-video contract's endpoints. */
function contractRequest(endpoint: string) {
  const section = ANIME.slice(ANIME.indexOf(endpoint));
  return JSON.parse(section.slice(section.indexOf("**Request**")).match(/```json\n([\s\S]*?)\n\s*```/)![1]);
}
const placeholder = (v: unknown) => v === "optional" || v === "模型ID" || (Array.isArray(v) && v.every((x) => String(x).startsWith("optional")));

describe("the anime-video contract's examples, as written", () => {
  it("optimize-prompt runs as written; create-task and quote hold placeholders: refused naming them, then accepted filled in as the README says", async () => {
    const user = await newUser();
    const optimize = await call(user.token, "POST", "anime-video/optimize-prompt", contractRequest("POST /api/anime-video/optimize-prompt"));
    expect(optimize).toMatchObject({ status: 200, body: { success: true, data: { original_prompt: "原始提示词", optimized_prompt: expect.any(String), improvements: expect.any(Array) } } });

    for (const [endpoint, path] of [["POST /api/anime-video/create-task", "anime-video/create-task"], ["POST /api/anime-video/quote", "anime-video/quote"]]) {
      const example = contractRequest(endpoint);
      const asWritten = await call(user.token, "POST", path, example);
      expect(asWritten.status, path).toBe(400);
      const named = new Set(asWritten.body.error.details.map((d: { path: string }) => d.path.split(".")[0]));
      // Only placeholders are named (free-text ones such as `motion: "optional"` pass as text).
      expect([...named].filter((k) => !placeholder(example[k as string])), path).toEqual([]);
      expect(named.has("model_id"), path).toBe(true);

      // Filled in: a model for "模型ID", the optional fields left out, and only the fields the
      // model takes (Kling 3.0 has no `resolution`).
      const filled = Object.fromEntries(Object.entries(example).filter(([k, v]) => k === "model_id" || (!placeholder(v) && k !== "resolution"))
        .map(([k, v]) => [k, k === "model_id" ? "kling-3.0/video" : v]));
      const accepted = await call(user.token, "POST", path, filled);
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(path.endsWith("quote") ? 200 : 201);
      if (path.endsWith("quote")) expect(accepted.body.estimated_credits).toBe(1050);
      else {
        const status = await call(user.token, "GET", `generation/status/${accepted.body.data.generation_uuid}`);
        const section = ANIME.slice(ANIME.indexOf("GET /api/generation/status"));
        const shape = JSON.parse(section.slice(section.indexOf("**Response**")).match(/```json\n([\s\S]*?)\n\s*```/)![1]);
        for (const key of Object.keys(shape)) expect(status.body, key).toHaveProperty(key);
      }
    }
  });
});

/** The guide's body for a Novita endpoint, its `//` comments dropped. */
function guideBody(endpoint: string) {
  const section = CINEMATIC.slice(CINEMATIC.indexOf(`POST https://api.novita.ai${endpoint}`));
  return JSON.parse(section.match(/```json\n([\s\S]*?)\n```/)![1].replace(/\s\/\/.*$/gm, ""));
}

/** Where Novita's published contract (shared/providers/novita.md) differs from the guide: the
 * guide's field, and what is sent instead (null: nothing). The README's table says the same. */
const NOVITA_DIFFERENCES: Record<string, Record<string, string | null>> = {
  "/v3/seedream-3-0-txt2img": { model_name: null, width: "size", height: "size", guidance_scale: null, image_num: null, response_image_type: "response_format" },
  "/v3/merge-face": {},
  "/v3/async/kling-v2.1-i2v-master": { model_name: null, image_file: "image", cfg_scale: "guidance_scale", extra: null },
};

describe("the documents' provider requests, as the published contracts have them", () => {
  const provider = standInProvider();
  it("each guide body's fields are sent as written, or as the contract's field the README names", async () => {
    const novita = { baseUrl: provider.base(), apiKey: "sk_test" };
    provider.answer("/v3/seedream-3-0-txt2img", { status: 200, body: { image_urls: ["https://x.example/i.jpeg"] } });
    provider.answer("/v3/merge-face", { status: 200, body: { image_file: "aGk=", image_type: "png" } });
    provider.answer("/v3/async/kling-v2.1-i2v-master", { status: 200, body: { task_id: "t1" } });
    const seedream = guideBody("/v3/seedream-3-0-txt2img");
    await seedreamTxt2Img(novita, { prompt: seedream.prompt, size: `${seedream.width}x${seedream.height}` });
    const merge = guideBody("/v3/merge-face");
    await mergeFace(novita, { faceImageBase64: merge.face_image_file, imageBase64: merge.image_file });
    const kling = guideBody("/v3/async/kling-v2.1-i2v-master");
    await submitImageToVideo(novita, { imageBase64: kling.image_file, prompt: kling.prompt, durationSeconds: Number(kling.duration) as 5 });

    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    for (const [i, [endpoint, differences]] of Object.entries(NOVITA_DIFFERENCES).entries()) {
      const guide = guideBody(endpoint);
      const sent = provider.requests[i];
      expect(sent.path).toBe(endpoint);
      for (const [field, value] of Object.entries(guide)) {
        if (!(field in differences)) expect(sent.body[field], `${endpoint} ${field}`).toEqual(value);
        else if (differences[field]) expect(sent.body, `${endpoint} ${field} -> ${differences[field]}`).toHaveProperty(differences[field]!);
        else expect(sent.body, `${endpoint} ${field}`).not.toHaveProperty(field);
        if (field in differences) expect(readme.includes(`\`${field}\``), `the README's note on ${endpoint} ${field}`).toBe(true);
      }
    }
    expect(provider.requests[0].body).toMatchObject({ size: "832x1216", response_format: "url" });
    expect(provider.requests[2].body).toMatchObject({ image: "BASE64_SWAPPED_IMAGE", duration: "5", guidance_scale: 0.5 });
  });

  it("the MovieFlow document's Jimeng bodies (T2V, first frame, first and last frame): each field as written or as the README's table says", async () => {
    provider.answer("/", { status: 200, body: { code: 10000, data: { task_id: "7392616336519610409" }, message: "Success" } });
    const section = MOVIEFLOW.slice(MOVIEFLOW.indexOf("## 火山引擎集成"), MOVIEFLOW.indexOf("### 数字人生成"));
    const bodies = [...section.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => JSON.parse(m[1])).filter((b) => b.req_key);
    expect(bodies.map((b) => b.model_version)).toEqual(["jimeng_t2v_v30_1080p", "jimeng_i2v_first_v30_1080", "jimeng_i2v_first_tail_v30_1080"]);
    // The contract: req_key is the model; video_length is frames; aspect_ratio for text-to-video only.
    const differences: Record<string, string | null> = { req_key: "req_key", model_version: "req_key", video_length: "frames", scale: null, ddim_steps: null, quality: null };
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    for (const body of bodies) {
      const model = JIMENG_MODELS[body.model_version as keyof typeof JIMENG_MODELS];
      await submitJimeng({ baseUrl: provider.base(), accessKey: "AKTEST", secretKey: "SKTEST" }, {
        mode: model.mode, hd: model.hd, prompt: body.prompt ?? "", frames: body.video_length ?? 121, aspectRatio: body.aspect_ratio,
        imagesBase64: body.binary_data_base64, seed: body.seed,
      });
      const sent = provider.requests.at(-1)!.body;
      expect(sent.req_key).toBe(body.model_version);
      for (const [field, value] of Object.entries(body)) {
        if (field in differences) {
          expect(readme.includes(`\`${field}`), `the README's note on ${field}`).toBe(true);
          if (differences[field] === null) expect(sent, field).not.toHaveProperty(field);
          else if (field === "video_length") expect(sent.frames).toBe(value);
        } else if (field === "aspect_ratio" && model.mode !== "t2v") expect(sent, field).not.toHaveProperty(field);
        else expect(sent[field], field).toEqual(value);
      }
    }
  });
});
