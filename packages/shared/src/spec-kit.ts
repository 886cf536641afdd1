// Spec-Kit import (seed 002, "与 Spec-Kit 集成"): a spec.md's title, description and
// `## Requirements` (FR-/NFR- lines such as "FR-001: 生成60秒视频", "FR-002: 包含6个场景",
// "NFR-001: 1080p分辨率") become a MovieFlow spec. Used by `movieflow from-spec` and by
// `POST video/from-spec` (the Python client's from_speckit).
import { AppError } from "./errors.ts";
import type { MovieRequest } from "./movie.ts";

type Settings = { narrate?: boolean; seconds?: number; scenes?: number; resolution?: "1080x1920" | "720x1280"; platform?: "douyin" | "wechat" | "bilibili"; style?: string; fps?: 24 | 25 | 30 };

/** What one requirement line says about the video, or null when it says nothing we read. */
function readRequirement(text: string): Settings | null {
  const found: Settings = {};
  if (/旁白|配音|解说|narrat|voice-?over/i.test(text)) found.narrate = true;
  const seconds = text.match(/(\d+)\s*(?:秒|s\b|sec\b|seconds?\b)/i);
  if (seconds) found.seconds = Number(seconds[1]);
  const scenes = text.match(/(\d+)\s*(?:个)?\s*(?:场景|镜头|scenes?\b|shots?\b)/i);
  if (scenes) found.scenes = Number(scenes[1]);
  if (/1080\s*p|1080x1920|1920x1080|全高清/i.test(text)) found.resolution = "1080x1920";
  else if (/720\s*p|720x1280|高清/i.test(text)) found.resolution = "720x1280";
  const fps = text.match(/(24|25|30)\s*fps/i);
  if (fps) found.fps = Number(fps[1]) as 24 | 25 | 30;
  if (/抖音|douyin|tiktok/i.test(text)) found.platform = "douyin";
  else if (/微信|视频号|wechat/i.test(text)) found.platform = "wechat";
  else if (/b站|哔哩|bilibili/i.test(text)) found.platform = "bilibili";
  const style = text.match(/(卡通|cartoon|写实|realistic|动漫|anime)/i)?.[1].toLowerCase();
  if (style) found.style = ({ 卡通: "cartoon", 写实: "realistic", 动漫: "anime" } as Record<string, string>)[style] ?? style;
  return Object.keys(found).length ? found : null;
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9\u3400-\u9fff]+/g, "-").replace(/^-|-$/g, "").slice(0, 60) || "spec-kit-video";

export function fromSpecKit(markdown: string, file: string): { spec: MovieRequest; warnings: string[] } {
  const lines = markdown.split("\n");
  const title = (lines.find((l) => /^# /.test(l)) ?? "# video").replace(/^# (Feature Specification:\s*)?/i, "").trim();
  const start = lines.findIndex((l) => /^##\s+(Requirements|需求)/i.test(l));
  if (start < 0) throw new AppError("INVALID_REQUEST", `${file}: no "## Requirements" section (Spec-Kit lists FR-/NFR- lines there)`);
  const end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  const settings: Settings = {};
  const where: Partial<Record<keyof Settings, number>> = {};
  const warnings: string[] = [];
  for (let i = start + 1; i < (end < 0 ? lines.length : end); i++) {
    const m = lines[i].match(/^\s*[-*]\s*\**((?:N?FR)-\d+)\**\s*[:：]\s*(.+)$/);
    if (!m) continue;
    const read = readRequirement(m[2]);
    if (!read) warnings.push(`${file}:${i + 1}: ${m[1]} says nothing about the video's length, scenes, resolution, platform, style or narration; kept out`);
    for (const [k, v] of Object.entries(read ?? {})) {
      (settings as Record<string, unknown>)[k] = v;
      where[k as keyof Settings] = i + 1;
    }
  }
  // The description: the spec's **Input** line, else the first paragraph after the title.
  const input = markdown.match(/\*\*Input\*\*:\s*(?:User description:\s*)?"?([^"\n]+)"?/)?.[1];
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
  const sceneStart = lines.findIndex((l) => /^##\s+(Scenes|场景)/i.test(l));
  const listed = sceneStart < 0 ? [] : lines.slice(sceneStart + 1).filter((l, i, all) => !all.slice(0, i).some((x) => /^## /.test(x)))
    .map((l) => l.match(/^\s*(?:[-*]|\d+\.)\s+(.+)$/)?.[1]).filter((x): x is string => !!x);
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
