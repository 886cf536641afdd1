// What movie tests share: specs, creating a task, waiting for it, files in and out.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { call, FUNCTIONS, supabaseClient, type TestUser, waitFor, writeFile } from "./helpers";

export const scene = (id: string, extra: Record<string, unknown> = {}) => ({ id, prompt: `scene ${id}: a lantern festival at night`, duration: 10, ...extra });
export const spoken = (text: string) => ({ audio: { text, voice: "narrator", emotion: "calm" } });

export async function generate(user: TestUser, body: Record<string, unknown>) {
  const res = await call(user.token, "POST", "video/generate", { projectName: "test", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { taskId: string; status: string; segments: { id: string; status: string }[]; credits: number };
}

export const task = async (user: TestUser, id: string) => (await call(user.token, "GET", `task/${id}`)).body;

export async function finished(user: TestUser, id: string, timeoutMs = 150_000) {
  return await waitFor(`task ${id} to finish`, async () => {
    const t = await task(user, id);
    return ["completed", "failed", "canceled"].includes(t.status) ? t : null;
  }, timeoutMs);
}

export async function download(url: string, file: string) {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  writeFile(file, new Uint8Array(await res.arrayBuffer()));
  return file;
}

/** A file put in the user's assets folder directly (through Storage, not the assets API): its path. */
export async function storeAsset(user: TestUser, extension: string, bytes: Uint8Array, contentType: string) {
  const path = `${user.id}/${crypto.randomUUID()}.${extension}`;
  const { error } = await supabaseClient(user.token).storage.from("assets").upload(path, bytes, { contentType });
  if (error) throw error;
  return path;
}

/** A solid-colour PNG in the user's assets folder (a first or last frame). */
export async function uploadFrame(user: TestUser, colour: string) {
  const file = `/tmp/reelforge-frame-${colour}-${process.pid}.png`;
  execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", `color=c=${colour}:s=720x1280`, "-frames:v", "1", file]);
  return await storeAsset(user, "png", readFileSync(file), "image/png");
}

/** A portrait-ish PNG (a face-coloured disc on a backdrop) uploaded as an image asset. */
export async function avatar(user: TestUser): Promise<{ id: string; path: string }> {
  const file = `/tmp/reelforge-avatar-${process.pid}.png`;
  execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=0x335577:s=720x960",
    "-vf", "drawbox=x=220:y=200:w=280:h=360:color=0xd2a07a:t=fill", "-frames:v", "1", file]);
  const form = new FormData();
  form.set("file", new Blob([readFileSync(file)]), "avatar.png");
  form.set("type", "image");
  const res = await fetch(`${FUNCTIONS}/assets/upload`, { method: "POST", headers: { Authorization: `Bearer ${user.token}` }, body: form });
  expect(res.status).toBe(201);
  return await res.json();
}
