// Progress as a client sees it (issue 25.7): Realtime broadcasts and GET reads, interleaved
// in the order they arrive, never move backwards, and say what is happening in words.
import type { SupabaseClient } from "@supabase/supabase-js";
import { afterEach, describe, expect, it } from "vitest";
import { call, newUser, resetSims, supabaseClient, type TestUser, waitFor } from "./helpers";
import { scene, spoken } from "./movie-helpers";

type Seen = { source: string; progress: number; phase: string; label: string; revision: number; etaSeconds: number | null };

const open: SupabaseClient[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.removeAllChannels();
});

/** Everything a client sees of one run: each broadcast as it arrives and a GET every 150 ms. */
async function watch(user: TestUser, start: () => Promise<string>, read: (id: string) => Promise<Seen & { done: boolean }>) {
  const client = supabaseClient(user.token);
  open.push(client);
  await client.realtime.setAuth(user.token);
  const seen: Seen[] = [];
  let id = "";
  const early: Record<string, any>[] = [];
  const record = (p: Record<string, any>) => {
    if (p.event === "progress") seen.push({ source: "realtime", progress: p.data.overall, phase: p.data.phase, label: p.data.phaseLabel, revision: p.data.revision, etaSeconds: p.data.etaSeconds });
    if (p.event === "generation_update") seen.push({ source: "realtime", progress: p.progress, phase: p.phase, label: p.phase_label, revision: p.revision, etaSeconds: p.eta_seconds });
  };
  await new Promise<void>((resolve) =>
    client.channel(`generations:${user.id}`, { config: { private: true } })
      .on("broadcast", { event: "*" }, (m) => {
        const p = { ...m.payload, event: m.event };
        const of = p.taskId ?? p.id;
        if (!id) early.push(p);
        else if (of === id) record(p);
      })
      .subscribe((s) => s === "SUBSCRIBED" && resolve())
  );
  id = await start();
  for (const p of early) if ((p.taskId ?? p.id) === id) record(p);
  await waitFor(`run ${id} to end`, async () => {
    const asked = seen.length;
    const r = await read(id);
    seen.push({ ...r, source: `get(asked after ${asked})` });
    return r.done || null;
  }, 120_000);
  return seen;
}

/** What a client shows: each view as it arrives, unless it is older (a lower revision) than
 * one already shown: a GET answered after a broadcast it crossed. */
function expectNeverBackwards(seen: Seen[]) {
  expect(seen.every((s) => Number.isInteger(s.revision)), "every view carries its revision").toBe(true);
  const shown = seen.filter((s, i) => seen.slice(0, i).every((before) => before.revision <= s.revision));
  const values = shown.map((s) => s.progress);
  const drops = values.flatMap((v, i) => (i > 0 && v < Math.max(...values.slice(0, i)) ? [`${seen[i].source} ${v} after ${Math.max(...values.slice(0, i))}`] : []));
  expect(drops, shown.map((s, i) => `${i}:${s.source}:${s.progress}`).join(" ")).toEqual([]);
  // Within one revision every channel says the same.
  const byRevision = new Map<number, string>();
  for (const s of seen) {
    const said = `${s.progress} ${s.phase} ${s.label} ${s.etaSeconds}`;
    expect(byRevision.get(s.revision) ?? said, `revision ${s.revision} (${s.source})`).toBe(said);
    byRevision.set(s.revision, said);
  }
  expect(values.at(-1)).toBe(100);
}

describe("progress a client sees", () => {
  it("a movie: Realtime and GET task interleaved never move backwards; phases are words with the time left", async () => {
    await resetSims();
    const user = await newUser();
    const seen = await watch(user, async () => {
      const res = await call(user.token, "POST", "video/generate", {
        projectName: "progress", scenes: [scene("a", { ...spoken("第一幕"), duration: 5 }), scene("b", { ...spoken("第二幕"), sceneImage: true, duration: 5 })],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.taskId;
    }, async (id) => {
      const t = (await call(user.token, "GET", `task/${id}`)).body;
      return { source: "get", progress: t.progress, phase: t.currentPhase, label: t.phaseLabel, revision: t.progressRevision, etaSeconds: t.estimatedTimeLeft, done: ["completed", "failed", "canceled"].includes(t.status) };
    });
    expectNeverBackwards(seen);
    // One vocabulary of phases in both channels.
    expect(seen.map((s) => s.label)).toContain("Generating the scenes");
    const phases = new Set(seen.map((s) => s.phase));
    expect([...phases].every((p) => ["queued", "generating_segments", "merging", "completed"].includes(p)), [...phases].join(",")).toBe(true);
    expect(seen.some((s) => s.source === "realtime" && s.progress > 0 && s.progress < 100)).toBe(true);
    expect(seen.filter((s) => s.progress > 0 && s.progress < 100).every((s) => typeof s.etaSeconds === "number" && s.etaSeconds >= 0)).toBe(true);
  }, 150_000);

  it("a cinematic run: Realtime and GET generations interleaved never move backwards", async () => {
    await resetSims();
    const user = await newUser();
    const seen = await watch(user, async () => {
      const res = await call(user.token, "POST", "generations", { idea: "a lighthouse keeper feeding seagulls at dawn", duration: 5 });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.generation.id;
    }, async (id) => {
      const g = (await call(user.token, "GET", `generations/${id}`)).body.generation;
      return { source: "get", progress: g.progress, phase: g.phase, label: g.phase_label, revision: g.progress_revision, etaSeconds: g.eta_seconds, done: ["completed", "failed", "canceled"].includes(g.status) };
    });
    expectNeverBackwards(seen);
    expect(seen.filter((s) => s.progress > 0 && s.progress < 100).every((s) => typeof s.etaSeconds === "number")).toBe(true);
    const words = ["Waiting for a free slot", "Starting", "Writing the script", "Painting the first frame", "Animating the video", "Saving the video", "Ready"];
    expect(seen.map((s) => s.label).filter((l) => !words.includes(l))).toEqual([]);
    expect(seen.map((s) => s.label)).toContain("Animating the video");
  }, 150_000);
});
