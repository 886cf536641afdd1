// Provider wire formats where the contracts say the shapes vary.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateScript } from "../packages/shared/src/providers/gemini";
import { ProviderError } from "../packages/shared/src/providers/http";
import { parseRecord, recordInfo } from "../packages/shared/src/providers/kie";
import { parseTaskResult } from "../packages/shared/src/providers/novita";
import { isPrivateAddress } from "../packages/shared/src/urls";

describe("Novita task-result", () => {
  it("reads TTLs as numbers or strings and tolerates unknown statuses", () => {
    const base = { task: { task_id: "t", status: "TASK_STATUS_SUCCEED", reason: "", progress_percent: 100 } };
    expect(parseTaskResult({ ...base, videos: [{ video_url: "u", video_url_ttl: "3600" }] })).toMatchObject({ state: "succeeded", videoUrl: "u" });
    expect(parseTaskResult({ ...base, videos: [{ video_url: "u", video_url_ttl: 3600 }], images: [{ image_url: "i", image_url_ttl: "0" }] }))
      .toMatchObject({ state: "succeeded", videoUrl: "u" });
    expect(parseTaskResult({ task: { task_id: "t", status: "TASK_STATUS_UNKNOWN" } })).toMatchObject({ state: "pending" });
    expect(parseTaskResult({ task: { task_id: "t", status: "TASK_STATUS_FAILED", reason: "out of memory" } }))
      .toMatchObject({ state: "failed", code: "TASK_FAILED", reason: "out of memory" });
    expect(() => parseTaskResult({ tasks: [] })).toThrow(ProviderError);
  });
});

describe("kie recordInfo and callbacks", () => {
  it("parses resultJson from its JSON string and reads taskId or task_id", () => {
    expect(parseRecord({ taskId: "a", state: "success", resultJson: "{\"resultUrls\":[\"https://x/v.mp4\"]}" }))
      .toEqual({ taskId: "a", state: "succeeded", progress: 100, reason: "", videoUrl: "https://x/v.mp4" });
    expect(parseRecord({ task_id: "b", state: "fail", failCode: "500", failMsg: "Internal server error", resultJson: null }))
      .toMatchObject({ taskId: "b", state: "failed", reason: "500 Internal server error" });
    expect(parseRecord({ taskId: "c", state: "queuing" })).toMatchObject({ state: "pending", progress: 15 });
  });
});

// A tiny stand-in provider answering each path with a fixed HTTP status and body.
let base = "";
const answers = new Map<string, [number, unknown]>();
const server = createServer((req, res) => {
  const [status, body] = answers.get(req.url!.split("?")[0]) ?? [404, {}];
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    return err as ProviderError;
  }
  throw new Error("expected a provider error");
}

describe("error envelopes", () => {
  const gemini = () => ({ baseUrl: base, apiKey: "k", model: "m" });
  const path = "/v1beta/models/m:generateContent";
  const script = (body: unknown, status = 200) => {
    answers.set(path, [status, body]);
    return generateScript(gemini(), { idea: "x", durationSeconds: 5 });
  };

  it("Gemini: a blocked prompt is a content violation, MAX_TOKENS twice fails for good, bad JSON is retried", async () => {
    expect(await failure(script({ promptFeedback: { blockReason: "SAFETY" } }))).toMatchObject({ code: "CONTENT_VIOLATION", retryable: false });
    expect(await failure(script({ candidates: [{ content: { parts: [{ text: "{\"concept\":" }] }, finishReason: "MAX_TOKENS" }] })))
      .toMatchObject({ retryable: false });
    expect(await failure(script({ candidates: [{ content: { parts: [{ text: "not json" }] }, finishReason: "STOP" }] })))
      .toMatchObject({ retryable: true });
  });

  it("Gemini: 429 honours RetryInfo, per-day quotas are final, and array-wrapped errors are read", async () => {
    const quota = (quotaId: string) => ({ error: { code: 429, status: "RESOURCE_EXHAUSTED", message: "quota", details: [
      { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [{ quotaId }] },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "44s" }] } });
    expect(await failure(script(quota("GenerateRequestsPerMinutePerProjectPerModel"), 429)))
      .toMatchObject({ code: "RATE_LIMIT_EXCEEDED", retryable: true, retryAfterMs: 44_000 });
    expect(await failure(script(quota("GenerateRequestsPerDayPerProjectPerModel"), 429))).toMatchObject({ retryable: false });
    expect(await failure(script([{ error: { code: 503, status: "UNAVAILABLE", message: "overloaded" } }], 503)))
      .toMatchObject({ code: "SERVICE_UNAVAILABLE", retryable: true });
  });

  it("kie: an auth error inside HTTP 200 is an error, and msg or message is read", async () => {
    answers.set("/api/v1/jobs/recordInfo", [200, { code: 401, msg: "You do not have access permissions" }]);
    expect(await failure(recordInfo({ baseUrl: base, apiKey: "k" }, "t"))).toMatchObject({ retryable: false, message: expect.stringContaining("access") });
    answers.set("/api/v1/jobs/recordInfo", [200, { code: 455, message: "maintenance" }]);
    expect(await failure(recordInfo({ baseUrl: base, apiKey: "k" }, "t"))).toMatchObject({ retryable: true, message: expect.stringContaining("maintenance") });
  });
});

describe("public address check", () => {
  it("knows loopback, private, link-local and their IPv6 spellings", () => {
    for (const ip of ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1",
      "::1", "::", "fe80::1", "fd12::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::127.0.0.1", "64:ff9b::a9fe:a9fe"]) {
      expect(isPrivateAddress(ip), ip).toBe(true);
    }
    for (const ip of ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"]) expect(isPrivateAddress(ip), ip).toBe(false);
  });
});
