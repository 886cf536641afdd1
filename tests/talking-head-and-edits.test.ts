// Digital-human scenes (OmniHuman) in a movie, and scene images edited by an instruction
// (Gemini image editing) then used by a retried scene, on the local stack.
import { execFileSync } from "node:child_process";
import { beforeEach, describe, expect, it } from "vitest";
import { probe } from "../packages/media/ffmpeg";
import { call, newUser, resetSims, simStats, sql } from "./helpers";
import { avatar, download, finished, generate, scene, spoken } from "./movie-helpers";

/** The mean colour of a video's frame at `at` seconds, as [r, g, b]. */
function colourAt(file: string, at: number): number[] {
  const raw = execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-ss", String(at), "-i", file, "-frames:v", "1",
    "-vf", "scale=1:1:flags=area", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]);
  return [...raw.subarray(0, 3)];
}

beforeEach(async () => {
  await resetSims({ latency_ms: { jimeng: 600, omnihuman: 600 } });
});

describe("digital humans", () => {
  it("a talking-head scene speaks its narration: the clip lasts as long as the speech, and the movie merges it like any scene", async () => {
    const user = await newUser();
    const face = await avatar(user);
    const body = {
      scenes: [
        scene("host", { duration: 5, avatar: face.id, digitalHuman: { emotionExpression: "happy", mouthSync: true }, ...spoken("Welcome to the lantern festival.") }),
        scene("night", { duration: 5 }),
      ],
      config: { quality: "medium" },
    };
    const quote = await call(user.token, "POST", "video/quote", { projectName: "host", ...body });
    expect(quote.body.explain).toBe("5 s talking head 120 MC + 720p 5 s segment 100 MC + narration 5 MC + merge 10 MC = 235 MC");
    const created = await generate(user, body);
    const done = await finished(user, created.taskId);
    expect(done.status, JSON.stringify(done.error)).toBe("completed");
    expect((await simStats()).stats.omnihuman_person_checks).toBeGreaterThanOrEqual(1);

    const [narration] = await sql`select output from engine.tasks where generation_id = ${created.taskId} and step = 'narration'`;
    const clip = await probe(await download(done.segments[0].videoUrl, `/tmp/reelforge-head-${process.pid}.mp4`));
    expect(Math.abs(clip.duration - narration.output.duration_ms / 1000)).toBeLessThan(0.15);
    expect(clip.streams.find((s) => s.type === "video")).toMatchObject({ width: 720, height: 960 });
    const movie = await probe(await download(done.videoUrl, `/tmp/reelforge-head-movie-${process.pid}.mp4`));
    expect(movie.duration).toBeCloseTo(10, 0);
    const [{ inputs }] = await sql`select inputs from public.generations where id = ${created.taskId}`;
    expect(inputs.scenes[0]).toMatchObject({ kind: "talking_head", prompt: expect.stringContaining("speaking with a happy expression") });
  });

  it("an avatar without a person fails its scene (CONTENT_VIOLATION), refunded; a talking head needs audio", async () => {
    const user = await newUser();
    const face = await avatar(user);
    const noAudio = await call(user.token, "POST", "video/quote", { projectName: "x", scenes: [scene("host", { duration: 5, avatar: face.id })] });
    expect(noAudio.body.error.message).toMatch(/^scenes.0.audio: a talking head \(avatar\) speaks its audio/);
    await resetSims({ latency_ms: { jimeng: 600, omnihuman: 600 }, omnihuman_person: false });
    const created = await generate(user, { scenes: [scene("host", { duration: 5, avatar: face.id, ...spoken("Hello.") })] });
    const done = await finished(user, created.taskId);
    expect(done).toMatchObject({ status: "failed", segments: [{ id: "host", status: "failed", error: { code: "CONTENT_VIOLATION", message: expect.stringMatching(/shows no person/) } }] });
    expect(done.credits.charged).toBe(5);
  });
});

describe("scene edits", () => {
  it("edit a generated scene image by an instruction, then retry the scene: it starts from the edited image; a mask is refused", async () => {
    const user = await newUser();
    const created = await generate(user, { scenes: [scene("s1", { duration: 5, sceneImage: { prompt: "a red paper lantern", style: "cartoon" } })], config: { quality: "medium" } });
    const before = await finished(user, created.taskId);
    expect(before.status).toBe("completed");
    const original = colourAt(await download(before.segments[0].videoUrl, `/tmp/reelforge-edit-a-${process.pid}.mp4`), 0);

    const masked = await call(user.token, "POST", `task/${created.taskId}/scenes/s1/edit`, { instruction: "remove the moon", mask: "iVBORw0KGgo=" });
    expect(masked).toMatchObject({ status: 400, body: { error: { code: "INVALID_REQUEST", message: expect.stringMatching(/^mask: Gemini's image editing takes no mask/) } } });
    const edit = await call(user.token, "POST", `task/${created.taskId}/scenes/s1/edit`, { instruction: "make the lantern glow blue" });
    expect(edit.status, JSON.stringify(edit.body)).toBe(201);
    expect(edit.body).toMatchObject({ asset: { type: "image", tags: ["scene", "edited"], width: 768, height: 1344 }, scene: { id: "s1", firstFrame: edit.body.asset.id } });

    const retried = await call(user.token, "POST", `task/${created.taskId}/retry`, { segmentIds: ["s1"], reason: "quality_check_failed" });
    expect(retried.status).toBe(200);
    const after = await finished(user, created.taskId);
    expect(after.status).toBe("completed");
    const edited = colourAt(await download(after.segments[0].videoUrl, `/tmp/reelforge-edit-b-${process.pid}.mp4`), 0);
    expect(edited.some((c, i) => Math.abs(c - original[i]) > 12), `${original} vs ${edited}`).toBe(true);
  });

  it("an image asset edited before generation becomes a new asset; audio cannot be edited", async () => {
    const user = await newUser();
    const face = await avatar(user);
    const edited = await call(user.token, "POST", `assets/${face.id}/edit`, { instruction: "add a red scarf" });
    expect(edited.status, JSON.stringify(edited.body)).toBe(201);
    expect(edited.body).toMatchObject({ type: "image", name: "avatar.png (edited)", width: 720, height: 960 });
    expect(edited.body.id).not.toBe(face.id);
    expect((await call(user.token, "GET", "assets?type=image")).body.total).toBe(2);
  });
});
