// The SDK's MovieFlowClient as the MovieFlow document calls it, against a small HTTP server
// that records what it is sent: a server's API key goes as the bearer token of every call,
// the document's top-level platform into the spec's config, progress as `overall`, and
// task.wait() ends with videoUrl (by polling: Realtime needs a user's session).
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { MovieFlowClient } from "../packages/client/src/index";

const seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
let reads = 0;
/** Reads of task t2 as a loaded server can answer them: the second was computed before the first. */
const outOfOrder = [
  { progressRevision: 7, progress: 60, status: "processing", phaseLabel: "Generating the scenes", estimatedTimeLeft: 40 },
  { progressRevision: 6, progress: 50, status: "processing", phaseLabel: "Generating the scenes", estimatedTimeLeft: 50 },
  { progressRevision: 9, progress: 100, status: "completed", phaseLabel: "Ready", estimatedTimeLeft: 0 },
];
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    const answer = (status: number, json: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    if (req.url === "/functions/v1/video/generate") return answer(201, { taskId: "t1", status: "queued" });
    if (req.url === "/functions/v1/generations/t1") return answer(200, { generation: { id: "t1", pipeline: "movie" } });
    if (req.url === "/functions/v1/generations/t2") return answer(200, { generation: { id: "t2", pipeline: "movie" } });
    if (req.url === "/functions/v1/task/t2") {
      const view = outOfOrder.shift() ?? outOfOrder.at(-1);
      return answer(200, { taskId: "t2", currentPhase: "generating_segments", segments: [], videoUrl: null, duration: null, error: null, ...view });
    }
    if (req.url === "/functions/v1/task/t1") {
      const done = ++reads >= 3;
      return answer(200, {
        taskId: "t1", status: done ? "completed" : "processing", progress: done ? 100 : 40 * reads, currentPhase: done ? "done" : "segment",
        segments: [{ id: "scene1", status: done ? "completed" : "running", progress: done ? 100 : 40 * reads, videoUrl: null, error: null }],
        videoUrl: done ? "https://example.test/movie.mp4" : null, duration: done ? 5 : null, error: null,
      });
    }
    answer(404, { error: { code: "NOT_FOUND", message: "no such route" } });
  });
});
let url = "";
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

it("runs the document's example with an API key: Bearer <key> on every call, platform in config, overall, videoUrl", async () => {
  const client = new MovieFlowClient({ url, anonKey: "anon", apiKey: "rf_live_example", pollIntervalMs: 10 });
  const task = await client.generateVideo({ projectName: "my-video", template: "tang-monk", variables: { hobby: "下棋" }, platform: "douyin" });
  const overall: number[] = [];
  task.onProgress((progress) => overall.push(progress.overall));
  const result = await task.wait();

  expect(result.videoUrl).toBe("https://example.test/movie.mp4");
  expect(overall.at(-1)).toBe(100);
  expect(JSON.parse(seen[0].body)).toEqual({ projectName: "my-video", template: "tang-monk", variables: { hobby: "下棋" }, config: { platform: "douyin" } });
  expect(seen.length).toBeGreaterThanOrEqual(3);
  expect(seen.every((r) => r.headers.authorization === "Bearer rf_live_example")).toBe(true);
});

it("never reports a view older than one it reported (progress never moves backwards), with the phase's words and the time left", async () => {
  const client = new MovieFlowClient({ url, anonKey: "anon", apiKey: "rf_live_example", pollIntervalMs: 10 });
  const seenViews: [number, string | null | undefined, number | null | undefined][] = [];
  await client.wait("t2", { onProgress: (p) => void seenViews.push([p.overall, p.phaseLabel, p.etaSeconds]) });
  expect(seenViews).toEqual([[60, "Generating the scenes", 40], [100, "Ready", 0]]);
});
