// The OmniHuman client against payloads copied from its contract
// (/work/shared/providers/volcengine-digital-human.md), served by the stand-in provider.
import { describe, expect, it } from "vitest";
import { standInProvider } from "./stand-in-provider";
import { checkPerson, getTalkingHeadResult, submitTalkingHead } from "../packages/shared/src/providers/omnihuman";

const provider = standInProvider();
const { answer, requests } = provider;
const volc = () => ({ baseUrl: provider.base(), accessKey: "AKTEST", secretKey: "SKTEST" });

// Sections 3, 5 and 6.
const submitted = { status: 200, body: { code: 10000, data: { task_id: "7392616336519610409" }, message: "Success", request_id: "r", time_elapsed: "104.852309ms" } };
const verdict = (status: 0 | 1) => ({ status: 200, body: { code: 10000, data: { resp_data: `{"status":${status}}`, status: "done" }, message: "Success", status: 10000, request_id: "r", time_elapsed: "508.312154ms" } });
const query = (data: unknown, code = 10000, message = "Success", http = 200) => ({ status: http, body: { code, data, message, status: code, request_id: "r", time_elapsed: "1ms" } });

describe("OmniHuman 1.5", () => {
  it("checks the subject first: CVSubmitTask then CVGetResult with the role req_key; resp_data is a JSON string", async () => {
    answer("/", submitted, query({ status: "in_queue" }), verdict(1));
    expect(await checkPerson(volc(), "https://cdn/avatar.png")).toBe(true);
    expect(requests.map((r) => r.query)).toEqual(["Action=CVSubmitTask&Version=2022-08-31", "Action=CVGetResult&Version=2022-08-31", "Action=CVGetResult&Version=2022-08-31"]);
    expect(requests[0].body).toEqual({ req_key: "jimeng_realman_avatar_picture_create_role_omni_v15", image_url: "https://cdn/avatar.png" });
    expect(requests[1].body).toEqual({ req_key: "jimeng_realman_avatar_picture_create_role_omni_v15", task_id: "7392616336519610409" });
    expect(requests[0].headers.authorization).toMatch(/^HMAC-SHA256 Credential=AKTEST\/\d{8}\/cn-north-1\/cv\/request/);
    answer("/", submitted, verdict(0));
    expect(await checkPerson(volc(), "https://cdn/cat-free-landscape.png")).toBe(false);
  });

  it("submits the video with the same image, the audio, resolution and fast mode paired", async () => {
    answer("/", submitted);
    expect(await submitTalkingHead(volc(), { imageUrl: "https://i", audioUrl: "https://a", prompt: "面带微笑", resolution: 720 })).toEqual({ taskId: "7392616336519610409" });
    expect(requests[0].body).toEqual({ req_key: "jimeng_realman_avatar_picture_omni_v15", image_url: "https://i", audio_url: "https://a", seed: -1, output_resolution: 720, pe_fast_mode: true, prompt: "面带微笑" });
    await submitTalkingHead(volc(), { imageUrl: "https://i", audioUrl: "https://a", resolution: 1080 });
    expect(requests[1].body).toMatchObject({ output_resolution: 1080, pe_fast_mode: false });
    answer("/", query(null, 50411, "Pre Img Risk Not Pass", 400));
    await expect(submitTalkingHead(volc(), { imageUrl: "https://i", audioUrl: "https://a", resolution: 1080 })).rejects.toMatchObject({ code: "CONTENT_VIOLATION", retryable: false });
  });

  it("reads results code first: processing is pending, done has the video, 50215 and not_found fail the task", async () => {
    answer("/", query({ status: "processing" }));
    expect(await getTalkingHeadResult(volc(), "t1")).toMatchObject({ state: "pending" });
    answer("/", query({ aigc_meta_tagged: true, status: "done", video_url: "https://xxxx" }));
    expect(await getTalkingHeadResult(volc(), "t1")).toMatchObject({ state: "succeeded", videoUrl: "https://xxxx" });
    answer("/", query(null, 50215, "Input invalid for this service.", 400));
    expect(await getTalkingHeadResult(volc(), "t1")).toMatchObject({ state: "failed", code: "TASK_FAILED", reason: expect.stringContaining("50215") });
    answer("/", query({ status: "not_found" }));
    expect(await getTalkingHeadResult(volc(), "t1")).toMatchObject({ state: "failed" });
    answer("/", query(null, 50430, "Request Has Reached API Concurrent Limit, Please Try Later", 429));
    await expect(getTalkingHeadResult(volc(), "t1")).rejects.toMatchObject({ code: "RATE_LIMIT_EXCEEDED" });
  });
});
