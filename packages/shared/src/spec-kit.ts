// Spec-Kit import (seed 002, "与 Spec-Kit 集成"): a spec.md's title, description and
// `## Requirements` (FR-/NFR- lines such as "FR-001: 生成60秒视频", "FR-002: 包含6个场景",
// "NFR-001: 1080p分辨率") become a MovieFlow spec; so does the document's own MovieFlow form
// ("共享规格格式": `## Video Specification` with "- Duration: 60s", "- Scenes: 6",
// "- Resolution: 1080p"). Used by `movieflow from-spec` and by `POST video/from-spec` (the
// Python client's from_speckit).
import { AppError } from "./errors.ts";
import type { MovieRequest } from "./movie.ts";

/** The largest spec.md from-spec reads (a Spec-Kit spec is a few KB); bounds the parse. */
export const MAX_SPEC_BYTES = 32 * 1024;

type Settings = { narrate?: boolean; seconds?: number; scenes?: number; resolution?: "1080x1920" | "720x1280"; platform?: "douyin" | "wechat" | "bilibili"; style?: string; fps?: 24 | 25 | 30 };

// Every pattern here runs on user text: numbers are at most 6 digits and not inside a longer
// run ((?<!\d)), and spaces between words are bounded, so no pattern backtracks over a long
// run of digits or spaces (`- FR-1: ` and 60 000 digits took 74 s when they did not).

/** What one requirement line says about the video, or null when it says nothing we read. */
function readRequirement(text: string): Settings | null {
  const found: Settings = {};
  if (/旁白|配音|解说|narrat|voice-?over/i.test(text)) found.narrate = true;
  const seconds = text.match(/(?<!\d)(\d{1,6})\s{0,3}(?:秒|s\b|sec\b|seconds?\b)/i);
  if (seconds) found.seconds = Number(seconds[1]);
  const scenes = text.match(/(?<!\d)(\d{1,6})\s{0,3}(?:个\s{0,3})?(?:场景|镜头|scenes?\b|shots?\b)/i);
  if (scenes) found.scenes = Number(scenes[1]);
  if (/1080\s{0,3}p|1080x1920|1920x1080|全高清/i.test(text)) found.resolution = "1080x1920";
  else if (/720\s{0,3}p|720x1280|高清/i.test(text)) found.resolution = "720x1280";
  const fps = text.match(/(?<!\d)(24|25|30)\s{0,3}fps/i);
  if (fps) found.fps = Number(fps[1]) as 24 | 25 | 30;
  if (/抖音|douyin|tiktok/i.test(text)) found.platform = "douyin";
  else if (/微信|视频号|wechat/i.test(text)) found.platform = "wechat";
  else if (/b站|哔哩|bilibili/i.test(text)) found.platform = "bilibili";
  const style = text.match(/(卡通|cartoon|写实|realistic|动漫|anime)/i)?.[1].toLowerCase();
  if (style) found.style = ({ 卡通: "cartoon", 写实: "realistic", 动漫: "anime" } as Record<string, string>)[style] ?? style;
  return Object.keys(found).length ? found : null;
}

/** A MovieFlow `- Key: value` line read as a requirement: the value before its key ("6
 * Scenes", "1080p Resolution"), and a bare duration in seconds ("Duration: 60"). */
function readSpecItem(key: string, value: string): Settings | null {
  const bareDuration = /^(duration|length|时长)$/i.test(key) && /^\d{1,4}$/.test(value);
  return readRequirement(bareDuration ? `${value}s` : `${value} ${key}`);
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9\u3400-\u9fff]+/g, "-").replace(/^-|-$/g, "").slice(0, 60) || "spec-kit-video";

/** The lines of a `## heading` section (to the next `## `), as [first, end) indexes, or null. */
function section(lines: string[], heading: RegExp): [number, number] | null {
  const start = lines.findIndex((l) => l.startsWith("##") && heading.test(l));
  if (start < 0) return null;
  const end = lines.findIndex((l, i) => i > start && l.startsWith("## "));
  return [start + 1, end < 0 ? lines.length : end];
}

// A Spec-Kit requirement ("- **FR-001**: 生成60秒视频") and a MovieFlow item ("- Duration: 60s").
const REQUIREMENT = /^\s{0,8}[-*]\s{0,3}\*{0,2}(N?FR-\d{1,6})\*{0,2}\s{0,3}[:：]\s*(.+)$/;
const SPEC_ITEM = /^\s{0,8}[-*]\s{0,3}([^:：]{1,40})[:：]\s*(.+)$/;

export function fromSpecKit(markdown: string, file: string): { spec: MovieRequest; warnings: string[] } {
  const bytes = new TextEncoder().encode(markdown).length;
  if (bytes > MAX_SPEC_BYTES) {
    throw new AppError("INVALID_REQUEST", `${file}: a spec is at most ${MAX_SPEC_BYTES / 1024} KB (${MAX_SPEC_BYTES} bytes); this one is ${bytes} bytes`);
  }
  const lines = markdown.split(/\r?\n/);
  const title = (lines.find((l) => l.startsWith("# ")) ?? "# video").replace(/^# (Feature Specification:\s*)?/i, "").trim();
  const requirements = section(lines, /^##\s+(Requirements|需求)/i);
  const videoSpec = section(lines, /^##\s+(Video Specification|视频规格)/i);
  if (!requirements && !videoSpec) {
    throw new AppError("INVALID_REQUEST", `${file}: no "## Requirements" (Spec-Kit) or "## Video Specification" (MovieFlow) section`);
  }
  const settings: Settings = {};
  const where: Partial<Record<keyof Settings, number>> = {};
  const warnings: string[] = [];
  const read = (i: number, name: string, said: Settings | null) => {
    if (!said) warnings.push(`${file}:${i + 1}: ${name} says nothing about the video's length, scenes, resolution, platform, style or narration; kept out`);
    for (const [k, v] of Object.entries(said ?? {})) {
      (settings as Record<string, unknown>)[k] = v;
      where[k as keyof Settings] = i + 1;
    }
  };
  // Both forms may be in one file (the MovieFlow document shows them together); read in file order.
  for (let i = 0; i < lines.length; i++) {
    if (requirements && i >= requirements[0] && i < requirements[1]) {
      const m = lines[i].match(REQUIREMENT);
      if (m) read(i, m[1], readRequirement(m[2]));
    } else if (videoSpec && i >= videoSpec[0] && i < videoSpec[1]) {
      const m = lines[i].match(SPEC_ITEM);
      const key = m?.[1].replaceAll("*", "").trim();
      if (m && key) read(i, key, readSpecItem(key, m[2].replaceAll("*", "").trim()));
    }
  }
  // The description: the spec's **Input** line, else the first paragraph after the title.
  const input = markdown.match(/\*\*Input\*\*:[ \t]{0,3}(?:User description:[ \t]{0,3})?"?([^"\n]+)"?/)?.[1];
  const paragraph = lines.slice(1).find((l) => l.trim() && !/^[#>*|-]/.test(l.trim()));
  const description = (input ?? paragraph ?? title).trim();

  const seconds = settings.seconds ?? 60;
  if (seconds < 5 || seconds > 60 || seconds % 5) {
    throw new AppError("INVALID_REQUEST", `${file}:${where.seconds}: a video is 5 to 60 s in steps of 5, not ${seconds} s`);
  }
  const count = settings.scenes ?? Math.ceil(seconds / 10);
  const each = seconds / count;
  if (each !== 5 && each !== 10) {
    throw new AppError("INVALID_REQUEST", `${file}:${where.scenes ?? where.seconds}: ${count} scenes cannot share ${seconds} s (a scene is 5 or 10 s)`);
  }
  // Scenes from a "## Scenes" (or 场景) list when it has one per scene, else from the description.
  const scenesAt = section(lines, /^##\s+(Scenes|场景)/i);
  const listed = (scenesAt ? lines.slice(...scenesAt) : []).filter((l) => l.trim())
    .map((l) => l.match(/^\s{0,8}(?:[-*]|\d{1,3}\.)\s+(.+)$/)?.[1]).filter((x): x is string => !!x);
  const style = settings.style ? `, ${settings.style} style` : "";
  return {
    spec: {
      projectName: slug(title),
      scenes: Array.from({ length: count }, (_, i) => ({
        id: `scene${i + 1}`,
        prompt: `${listed.length === count ? listed[i] : `${description} (scene ${i + 1} of ${count})`}${style}`.slice(0, 800),
        duration: each as 5 | 10,
        // The narration says what the scene shows (Spec-Kit has no script to read).
        ...(settings.narrate ? { audio: { text: (listed.length === count ? listed[i] : description).slice(0, 300), voice: "narrator" } } : {}),
      })),
      config: { platform: settings.platform ?? "douyin", aspectRatio: "9:16", resolution: settings.resolution ?? "1080x1920", fps: settings.fps ?? 24,
                quality: (settings.resolution ?? "1080x1920") === "1080x1920" ? "high" : "medium" },
      effects: { transitions: true, backgroundMusic: null, watermark: false },
    },
    warnings,
  };
}
