// The from-spec parser (packages/shared/src/spec-kit.ts) and the CLI's JSON line finder
// (cli/spec-file.ts) on hostile text: every pattern at the size limit parses in bounded time
// (the regexes used to backtrack: `- FR-1: ` and 60 000 digits took 74 s), and the MovieFlow
// document's own `## Video Specification` form reads as written.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonLine } from "../cli/spec-file";
import { AppError } from "../packages/shared/src/errors";
import { fromSpecKit, MAX_SPEC_BYTES } from "../packages/shared/src/spec-kit";

/** `head` then `unit` repeated up to the size limit (in UTF-8 bytes), then `tail`. */
function fill(head: string, unit: string, tail = "") {
  const room = MAX_SPEC_BYTES - new TextEncoder().encode(head + tail).length;
  return head + unit.repeat(Math.floor(room / new TextEncoder().encode(unit).length)) + tail;
}

/** Milliseconds the parser takes (an error answer is an answer too): the best of three, so
 * that a loaded machine's scheduling pauses do not count. */
function timeParse(markdown: string) {
  const times = [0, 1, 2].map(() => {
    const started = performance.now();
    try {
      fromSpecKit(markdown, "hostile.md");
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
    }
    return performance.now() - started;
  });
  return Math.min(...times);
}

// A linear parse of 32 KB takes 1 to 20 ms; the backtracking ones took seconds to minutes.
const BOUND_MS = 100;

const HOSTILE: Record<string, string> = {
  "digits after a requirement": fill("## Requirements\n- FR-1: ", "1"),
  "digits and spaces after a requirement": fill("## Requirements\n- FR-1: 1", " ", "x"),
  "numbers separated by spaces": fill("## Requirements\n- FR-1: ", "1 "),
  "numbers and 个 without a unit": fill("## Requirements\n- FR-1: ", "1 个 "),
  "fps digits": fill("## Requirements\n- FR-1: ", "30 "),
  "an empty scenes list": fill("## Requirements\n- FR-1: 60s\n## Scenes\n", "\n"),
  "a long scenes list": fill("## Requirements\n- FR-1: 60s\n## Scenes\n", "- a scene\n"),
  "scene items of spaces": fill("## Requirements\n- FR-1: 60s\n## Scenes\n-", " "),
  "many requirement lines": fill("## Requirements\n", "- FR-1: 60s 6 scenes\n"),
  "many headings": fill("", "## Requirements\n## Scenes\n"),
  "a line of spaces": fill("## Requirements\n", " ", "x"),
  "a requirement id of digits": fill("## Requirements\n- FR-", "1", " "),
  "a title of dashes": fill("# ", "-", "\n## Requirements\n- FR-1: 60s"),
  "an Input line": fill("**Input**: ", "\"", "\n## Requirements\n"),
  "a Video Specification of digits": fill("## Video Specification\n- Duration: ", "1"),
  "a Video Specification of keys": fill("## Video Specification\n- ", "Duration", ": 60s"),
};

describe("from-spec on hostile markdown", () => {
  for (const [name, markdown] of Object.entries(HOSTILE)) {
    it(`${name} (${markdown.length} chars) parses in under ${BOUND_MS} ms`, () => {
      expect(timeParse(markdown)).toBeLessThan(BOUND_MS);
    });
  }

  it("any mix of hostile fragments at the size limit parses in bounded time", () => {
    const fragment = fc.constantFrom("\n", " ", "1", "0", "s", "个", "场景", "scenes", "fps", "- FR-1: ", "## Scenes\n", "## Requirements\n",
      "## Video Specification\n", "- Duration: ", "- Scenes: ", "**", ":", "# ", "-", "{{", "\u3000", "1080p");
    fc.assert(fc.property(fc.array(fragment, { minLength: 1, maxLength: 8 }), (parts) => {
      const markdown = fill("", parts.join(""));
      expect(timeParse(markdown)).toBeLessThan(BOUND_MS);
    }), { numRuns: 40 });
  });

  it(`refuses markdown over ${MAX_SPEC_BYTES / 1024} KB, naming the limit`, () => {
    const big = fill("## Requirements\n- FR-1: 60s\n", "x") + "xx";
    expect(() => fromSpecKit(big, "big.md")).toThrow(`big.md: a spec is at most ${MAX_SPEC_BYTES / 1024} KB`);
  });
});

describe("the MovieFlow document's spec forms (seed 002, 共享规格格式)", () => {
  it("reads `## Video Specification` alone", () => {
    const { spec, warnings } = fromSpecKit("# MovieFlow 规格\n## Video Specification\n- Duration: 60s\n- Scenes: 6\n- Resolution: 1080p\n", "spec.md");
    expect(warnings).toEqual([]);
    expect(spec.scenes.map((s) => s.duration)).toEqual([10, 10, 10, 10, 10, 10]);
    expect(spec.config).toMatchObject({ resolution: "1080x1920", quality: "high" });
  });

  it("reads other values of that form, and names a key it does not know", () => {
    const { spec, warnings } = fromSpecKit("# Demo\n\nA lantern festival.\n\n## Video Specification\n- Duration: 30\n- Scenes: 6\n- Resolution: 720p\n- Platform: bilibili\n- Style: anime\n- FPS: 30\n- Mood: calm\n", "v.md");
    expect(spec.scenes.map((s) => s.duration)).toEqual([5, 5, 5, 5, 5, 5]);
    expect(spec.scenes[0].prompt).toBe("A lantern festival. (scene 1 of 6), anime style");
    expect(spec.config).toMatchObject({ resolution: "720x1280", platform: "bilibili", fps: 30 });
    expect(warnings).toEqual(["v.md:12: Mood says nothing about the video's length, scenes, resolution, platform, style or narration; kept out"]);
  });

  it("reads the document's example verbatim (both forms in one file)", () => {
    const example = "# Spec-Kit 规格\n## Requirements\n- FR-001: 生成60秒视频\n- FR-002: 包含6个场景\n- NFR-001: 1080p分辨率\n\n# MovieFlow 规格\n## Video Specification\n- Duration: 60s\n- Scenes: 6\n- Resolution: 1080p\n";
    const { spec, warnings } = fromSpecKit(example, "spec.md");
    expect(warnings).toEqual([]);
    expect(spec.scenes).toHaveLength(6);
    expect(spec.scenes.reduce((sum, s) => sum + s.duration, 0)).toBe(60);
    expect(spec.config.resolution).toBe("1080x1920");
  });

  it("a file with neither section is refused naming both", () => {
    expect(() => fromSpecKit("# A video\n\nJust words.\n", "none.md")).toThrow('none.md: no "## Requirements" (Spec-Kit) or "## Video Specification" (MovieFlow) section');
  });
});

describe("the CLI's JSON line finder on hostile JSON", () => {
  it("a long array of numbers and a deep nesting answer in bounded time", () => {
    // Linear: ~100 ms on a quiet machine; a scan that copied the rest of the text per token would take minutes.
    const numbers = `[${"1,".repeat(100_000)}1]`;
    let started = performance.now();
    expect(jsonLine(numbers, ["100000"])).toBe(1);
    expect(performance.now() - started).toBeLessThan(2000);
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    started = performance.now();
    expect(() => jsonLine(deep, ["0"], "deep.json")).toThrow(/deep\.json:1:\d+: not valid JSON: nested deeper than 64 levels/);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe("numbers the parser reads", () => {
  it("a length out of range is still named, up to 6 digits; a longer run of digits is not a number", () => {
    expect(() => fromSpecKit("## Requirements\n- FR-001: 生成123456秒视频\n", "long.md")).toThrow("long.md:2: a video is 5 to 60 s in steps of 5, not 123456 s");
    expect(fromSpecKit("## Requirements\n- FR-001: 生成1234567秒视频\n", "run.md").warnings).toEqual(["run.md:2: FR-001 says nothing about the video's length, scenes, resolution, platform, style or narration; kept out"]);
  });
});
