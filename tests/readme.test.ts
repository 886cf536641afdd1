// The README is a test (issue 25.2): every fenced block of README.md (and of any docs/*.md) is
// run, by this file or by the test its marker names, or is marked as not runnable with the
// reason, right above it: `<!-- run by tests/x.test.ts -->` or `<!-- not run: why -->`. The
// blocks are read from the README itself, so changing the README changes what runs.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers";

type Block = { file: string; line: number; lang: string; text: string; marker: string | null };

/** The fenced blocks of a markdown file, each with the HTML comment right above it. */
function blocks(file: string): Block[] {
  const lines = readFileSync(`${ROOT}${file}`, "utf8").split("\n");
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^```(\w*)\s*$/);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith("```"));
    const above = lines.slice(0, i).reverse().find((l) => l.trim() !== "");
    found.push({ file, line: i + 1, lang: open[1], text: lines.slice(i + 1, end).join("\n"), marker: above?.match(/^<!-- (.*) -->$/)?.[1] ?? null });
    i = end;
  }
  return found;
}

const DOCS = ["README.md", ...readdirSync(`${ROOT}docs`).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const ALL = DOCS.flatMap(blocks);
const README = readFileSync(`${ROOT}README.md`, "utf8");
const ranHere = (b: Block) => b.marker?.startsWith("run by tests/readme.test.ts");

/** Runs a shell command line as a user types it; answers its exit code and output. */
function sh(line: string, cwd: string, timeoutMs: number): Promise<{ code: number; output: string; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile("bash", ["-c", line], { cwd, timeout: timeoutMs, maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: "1" } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, output: stdout + stderr, seconds: (Date.now() - t0) / 1000 }));
  });
}

/** A README output line as a pattern: numbers and progress bars may differ, nothing else. */
function shown(line: string): RegExp {
  if (line.startsWith("metrics: ")) return /^metrics: \{.*\}$/m;
  // A progress line: its phase and a bar (which scene is ahead differs from run to run).
  const progress = line.match(/^\s*(\w+)\s+[#.]{20}\s+\d+%/);
  if (progress) return new RegExp(`^\\s*${progress[1]}\\s+[#.]{20}\\s+\\d+%`, "m");
  const pattern = line.trim().replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\d+(\\\.\d+)?/g, "\\d+(\\.\\d+)?")
    .replace(/(\\\.|#){5,}/g, "[#.]+");
  return new RegExp(`^\\s*${pattern}\\s*$`, "m");
}

describe("the README, run", () => {
  it("every block is run here or by the test its marker names, or says why it is not run", () => {
    const problems = ALL.flatMap((b) => {
      const where = `${b.file}:${b.line} (${b.lang || "no language"})`;
      if (!b.marker) return [`${where}: no <!-- run by … --> or <!-- not run: … --> marker above it`];
      const runBy = b.marker.match(/^run by (\S+?)[:.]?(\s|$)/)?.[1];
      if (runBy) return existsSync(`${ROOT}${runBy}`) ? [] : [`${where}: ${runBy} does not exist`];
      const why = b.marker.match(/^not run: (.{10,})$/)?.[1];
      return why ? [] : [`${where}: "${b.marker}" is neither "run by <test>" nor "not run: <reason>"`];
    });
    expect(problems).toEqual([]);
    // What this file runs is exactly the blocks marked for it.
    expect(ALL.filter(ranHere).map((b) => b.lang)).toEqual(["sh", "text"]);
  });

  it.concurrent("the first lines: the demo makes a video", async () => {
    const [first] = ALL.filter((b) => ranHere(b) && b.lang === "sh");
    // `bash scripts/setup.sh` (root, OS packages) has run before any test; `npm test` is this suite.
    const demo = first.text.split("\n")[0].replace(/^bash scripts\/setup\.sh && /, "").replace(/\s+#.*$/, "");
    expect(demo).toMatch(/^npm run demo -- --idea "/);
    const run = await sh(demo, ROOT, 240_000);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/out\/[0-9a-f-]{36}\/video\.mp4/);
  }, 250_000);

  it.concurrent("the movieflow CLI session, command by command, prints what the README shows", async () => {
    const [session] = ALL.filter((b) => ranHere(b) && b.lang === "text");
    const cwd = mkdtempSync(path.join(tmpdir(), "reelforge-readme-"));
    symlinkSync(`${ROOT}examples`, path.join(cwd, "examples"));
    // `npx movieflow` finds the bin where npm puts it for a project that depends on reelforge.
    mkdirSync(path.join(cwd, "node_modules/.bin"), { recursive: true });
    symlinkSync(`${ROOT}bin/movieflow`, path.join(cwd, "node_modules/.bin/movieflow"));
    const steps = session.text.split(/^\$ /m).filter(Boolean).map((s) => {
      const [command, ...shownLines] = s.split("\n");
      return { command, shownLines: shownLines.filter((l) => l.trim() && l.trim() !== "…") };
    });
    expect(steps.length).toBeGreaterThanOrEqual(6);
    for (const step of steps) {
      const run = await sh(step.command, cwd, 240_000);
      expect(run.code, `${step.command}\n${run.output}`).toBe(0);
      for (const line of step.shownLines) expect(run.output, `${step.command}: ${line}`).toMatch(shown(line));
    }
  }, 600_000);

  it.concurrent.each(readdirSync(`${ROOT}examples`).filter((f) => f.endsWith(".json")))("npm run movie -- examples/%s makes the movie", async (spec) => {
    // The README names each example with the command that runs it.
    expect(README).toContain(`npm run movie -- examples/${spec}`);
    const out = mkdtempSync(path.join(tmpdir(), "reelforge-example-"));
    const run = await sh(`npm run movie -- examples/${spec} --out ${out}`, ROOT, 400_000);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(`completed in`);
    expect(existsSync(`${out}/movie.mp4`)).toBe(true);
  }, 420_000);
});
