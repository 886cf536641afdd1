// The engine under load, as users would meet it: provider limits at their documented
// numbers, several users at once, and cancels racing the work.
import { describe, expect, it } from "vitest";
import { call, env, newUser, resetSims, sql, type TestUser, waitFor } from "./helpers";

// One prompt for all: the simulator renders its video once (cached by content), so this measures the engine.
async function createVideo(user: TestUser) {
  const res = await call(user.token, "POST", "anime-video/create-task", { prompt: "burst clip", model_id: "sora-2" });
  expect(res.status).toBe(201);
  return res.body.data.generation_uuid as string;
}

async function storedFiles(generationId: string): Promise<string[]> {
  const res = await fetch(`${env.API_URL}/storage/v1/object/list/outputs`, {
    method: "POST",
    headers: { Authorization: `Bearer ${env.SERVICE_ROLE_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ prefix: generationId }),
  });
  return (await res.json()).map((o: { name: string }) => o.name);
}

const settled = (ids: string[]) => async () => {
  const [{ open }] = await sql`
    select count(*)::int as open from engine.tasks where generation_id = any(${ids}) and status in ('queued', 'running', 'waiting')`;
  const [{ live }] = await sql`
    select count(*)::int as live from public.generations where id = any(${ids}) and status in ('queued', 'running')`;
  return open === 0 && live === 0;
};

describe("provider capacity and fairness", () => {
  it("a burst of 100 generations from 3 users at kie's documented limit (20 per 10 s) completes 100/100", async () => {
    await resetSims({ limits_scale: 1 });
    const users = await Promise.all([newUser(), newUser(), newUser()]);
    const ids = await Promise.all(Array.from({ length: 100 }, (_, i) => createVideo(users[i % 3])));
    const running = await sql`select user_id, count(*)::int as n from public.generations where id = any(${ids}) and status = 'running' group by 1`;
    expect(running.every((r) => r.n <= 3)).toBe(true);
    await waitFor("all 100 to finish", settled(ids), 240_000);
    const byStatus = await sql`select status::text, count(*)::int as n from public.generations where id = any(${ids}) group by 1`;
    expect(byStatus).toEqual([{ status: "completed", n: 100 }]);
    const [{ rate_limited }] = await sql`
      select count(*)::int as rate_limited from public.generation_events where generation_id = any(${ids}) and message like '%rate%'`;
    expect(rate_limited).toBe(0);
  }, 300_000);
});

describe("waiting for a provider slot", () => {
  it("is visible in the task status, and the task runs once the slot frees, without spending an attempt", async () => {
    await resetSims();
    await sql`update engine.provider_capacity set paused_until = now() + interval '1 hour' where key = 'kie:createTask'`;
    try {
      const user = await newUser();
      const id = await createVideo(user);
      const blocked = await waitFor("the video task to wait for kie", async () => {
        const view = (await call(user.token, "GET", `generations/${id}`)).body.generation;
        return view.tasks.find((t: { waiting_for: string | null }) => t.waiting_for === "kie:createTask") ? view : null;
      }, 30_000);
      expect(blocked.tasks).toEqual([{ step: "video", task_index: 0, status: "queued", attempt: 0, waiting_for: "kie:createTask", progress: 0, error_code: null }]);
      expect(JSON.stringify(blocked)).not.toMatch(/webhook_token|lease|provider_task_id/);
      await sql`update engine.provider_capacity set paused_until = null where key = 'kie:createTask'`;
      await sql`update engine.tasks set next_attempt_at = now() where generation_id = ${id} and status = 'queued'`;
      await waitFor("it to complete", async () => (await sql`select status from public.generations where id = ${id}`)[0].status === "completed", 60_000);
      const [{ attempt }] = await sql`select attempt from engine.tasks where generation_id = ${id} and step = 'video'`;
      expect(attempt).toBe(1);
    } finally {
      await sql`update engine.provider_capacity set paused_until = null where key = 'kie:createTask'`;
    }
  });
});

describe("metered credits", () => {
  it("cancels racing every step, 50 times: no free output, and the charge is the work started", async () => {
    await resetSims({ latency_ms: { gemini: 100, seedream: 100, merge_face: 100, kling: 600, kie: 300 } });
    await sql`update engine.settings set capacity_scale = 1000`;
    try {
      const users = await Promise.all(Array.from({ length: 17 }, () => newUser()));
      const runs = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
        const user = users[i % users.length];
        const res = await call(user.token, "POST", "generations", { idea: `race number ${i}` });
        const id = res.body.generation.id as string;
        await new Promise((r) => setTimeout(r, (i * 53) % 2500));
        const canceled = await call(user.token, "POST", `generations/${id}/cancel`);
        return { user, id, canceled: canceled.status === 200 };
      }));
      const ids = runs.map((r) => r.id);
      await waitFor("every run to settle", settled(ids), 120_000);
      for (const r of runs) {
        const [g] = await sql`select status, credits_charged, price_plan from public.generations where id = ${r.id}`;
        const [{ started }] = await sql`
          select coalesce(sum(price), 0)::int as started from engine.tasks
          where generation_id = ${r.id} and status in ('running', 'waiting', 'completed', 'canceled') and charged_round is not null`;
        expect(g.credits_charged).toBe(started);
        if (g.status === "completed") {
          expect(r.canceled).toBe(false);
          expect(g.credits_charged).toBe(Object.values(g.price_plan as Record<string, number>).reduce((a, b) => a + b, 0));
        }
      }
      // A worker that was mid-upload when the cancel came deletes what it wrote once its commit
      // is refused: the canceled runs' folders end up empty, and the API never hands out a URL.
      const freeOutputs = async () => {
        let free = 0;
        for (const r of runs.filter((r) => r.canceled)) {
          const view = (await call(r.user.token, "GET", `generations/${r.id}`)).body.generation;
          if ((await storedFiles(r.id)).length > 0 || view.video_url || view.base_image_url) free++;
        }
        return free;
      };
      await waitFor("no canceled run to keep an output", async () => (await freeOutputs()) === 0, 30_000);
      expect(runs.filter((r) => r.canceled).length).toBeGreaterThan(25);
    } finally {
      await sql`update engine.settings set capacity_scale = 1`;
    }
  }, 200_000);
});
