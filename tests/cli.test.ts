// The movieflow CLI as a user runs it (a subprocess, --mock on the local stack): describe ->
// plan -> tasks -> generate -> movie.mp4; from-spec on a Spec-Kit sample; help and errors.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { beforeAll, describe, expect, it } from "vitest";
import { probe } from "../packages/media/ffmpeg";
import { resetSims, ROOT, timeExit } from "./helpers";

const dir = mkdtempSync(`${tmpdir()}/movieflow-`);
function movieflow(...args: string[]) {
  const run = spawnSync(`${ROOT}bin/movieflow`, args, { cwd: dir, encoding: "utf8", timeout: 240_000 });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

beforeAll(async () => {
  await resetSims({ latency_ms: { jimeng: 600 } });
});

describe("movieflow", () => {
  it("video-specify -> video-plan (cost < quality) -> video-tasks -> video-generate --mock makes a playable movie", async () => {
    const specified = movieflow("video-specify", "一只小狐狸在月球上插旗", "--duration", "20", "--style", "cartoon", "--mock", "--out", "fox.json");
    expect(specified.code, specified.err).toBe(0);
    const spec = JSON.parse(readFileSync(`${dir}/fox.json`, "utf8"));
    expect(spec.scenes).toHaveLength(2);
    expect(spec.scenes.every((s: any) => s.duration === 10 && s.prompt.includes("小狐狸") && s.prompt.endsWith("cartoon style") && s.audio.text)).toBe(true);

    const total = (out: string) => Number(out.match(/total: (\d+) MC/)![1]);
    const quality = movieflow("video-plan", "fox.json", "--optimize", "quality", "--mock");
    const cost = movieflow("video-plan", "fox.json", "--optimize", "cost", "--mock", "--out", "cheap.json");
    expect(quality.out).toMatch(/scene1\s+jimeng_t2v_v30_1080p\s+300 MC/);
    expect(cost.out).toMatch(/scene1\s+jimeng_t2v_v30\s+200 MC/);
    expect(total(cost.out)).toBeLessThan(total(quality.out));
    expect(JSON.parse(readFileSync(`${dir}/cheap.json`, "utf8")).config.quality).toBe("low");

    const tasks = movieflow("video-tasks", "cheap.json", "--parallel", "1", "--mock");
    expect(tasks.out).toMatch(/segments, wave 1 \(1 at once\): scene1/);
    expect(tasks.out).toMatch(/segments, wave 2 \(1 at once\): scene2/);
    expect(tasks.out.indexOf("narrations")).toBeLessThan(tasks.out.indexOf("merge"));

    // Timed: the CLI exits within 1 s of its last line (the Realtime socket kept it 10 s).
    const generated = await timeExit(`${ROOT}bin/movieflow`, ["video-generate", "cheap.json", "--all-scenes", "--preview", "--mock", "--out", "movie"], { cwd: dir });
    expect(generated.code, generated.out).toBe(0);
    expect(generated.linger).toBeLessThan(1000);
    expect(generated.out).toMatch(/preview: .*movie\/scene1\.mp4/);
    expect(generated.out).toMatch(/metrics: \{.*"providerCalls"/);
    const movie = await probe(`${dir}/movie/movie.mp4`);
    expect(movie.duration).toBeCloseTo(20, 0);
    expect(movie.streams.find((s) => s.type === "video")).toMatchObject({ width: 1080, height: 1920 });
  });

  it("from-spec imports a Spec-Kit spec's requirements; --scene generates one scene alone", async () => {
    const imported = movieflow("from-spec", `${ROOT}examples/spec-kit/001-video/spec.md`, "--out", "kit.json");
    expect(imported.code, imported.err).toBe(0);
    const spec = JSON.parse(readFileSync(`${dir}/kit.json`, "utf8"));
    expect(spec).toMatchObject({ config: { resolution: "1080x1920", platform: "douyin", quality: "high" } });
    expect(spec.scenes).toHaveLength(6);
    expect(spec.scenes.reduce((s: number, x: any) => s + x.duration, 0)).toBe(60);
    expect(spec.scenes[1].prompt).toBe("用户和智能助手对话，气泡弹出, cartoon style");

    const one = movieflow("video-generate", "kit.json", "--scene", "2", "--mock", "--out", "one");
    expect(one.code, one.err + one.out).toBe(0);
    expect((await probe(`${dir}/one/scene2.mp4`)).duration).toBeCloseTo(241 / 24, 1);
  });

  it("from-spec reads the MovieFlow document's `## Video Specification` example as written", () => {
    // Seed 002, "共享规格格式": the document's markdown block, verbatim, then its MovieFlow half alone.
    const example = "# Spec-Kit 规格\n## Requirements\n- FR-001: 生成60秒视频\n- FR-002: 包含6个场景\n- NFR-001: 1080p分辨率\n\n# MovieFlow 规格\n## Video Specification\n- Duration: 60s\n- Scenes: 6\n- Resolution: 1080p\n";
    writeFileSync(`${dir}/shared-format.md`, example);
    writeFileSync(`${dir}/movieflow-form.md`, example.slice(example.indexOf("# MovieFlow")));
    for (const file of ["shared-format.md", "movieflow-form.md"]) {
      const imported = movieflow("from-spec", file, "--out", `${file}.json`);
      expect(imported.code, imported.err).toBe(0);
      expect(imported.err).toBe("");
      expect(imported.out).toMatch(/6 scenes, 60 s, 1080x1920, douyin/);
    }
  });

  it("every command has --help; a bad spec exits non-zero naming its line; without --mock it says what to set", () => {
    for (const command of ["video-specify", "video-plan", "video-tasks", "video-generate", "from-spec"]) {
      const help = movieflow(command, "--help");
      expect(help.code).toBe(0);
      expect(help.out).toMatch(new RegExp(`^movieflow ${command} `));
    }
    writeFileSync(`${dir}/bad.json`, '{\n  "projectName": "x",\n  "scenes": [\n    { "id": "a", "prompt": "p", "duration": 7 }\n  ]\n}\n');
    const bad = movieflow("video-plan", "bad.json", "--mock");
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error INVALID_REQUEST: bad\.json:4: scenes\.0\.duration: must be 5 or 10/);
    writeFileSync(`${dir}/broken.json`, '{ "projectName": "x",\n "scenes": [ }');
    expect(movieflow("video-generate", "broken.json", "--mock").err).toMatch(/broken\.json:2:14: not valid JSON/);
    writeFileSync(`${dir}/no-requirements.md`, "# A video\n\nJust words.\n");
    expect(movieflow("from-spec", "no-requirements.md").err).toMatch(/no-requirements\.md: no "## Requirements" \(Spec-Kit\) or "## Video Specification" \(MovieFlow\) section/);
    const unset = spawnSync(`${ROOT}bin/movieflow`, ["video-plan", `${ROOT}examples/tang-monk.json`], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH } });
    expect(unset.stderr).toMatch(/set MOVIEFLOW_API_URL, MOVIEFLOW_ANON_KEY, MOVIEFLOW_ACCESS_TOKEN \(or MOVIEFLOW_EMAIL and MOVIEFLOW_PASSWORD\), or use --mock/);
    expect(execFileSync("npm", ["run", "--silent", "movieflow", "--", "--help"], { cwd: ROOT, encoding: "utf8" })).toMatch(/movieflow <command>/);
    // The README's form: `npx movieflow` in the project after setup.
    expect(execFileSync("npx", ["movieflow", "--help"], { cwd: ROOT, encoding: "utf8" })).toMatch(/movieflow <command>/);
  });
});
