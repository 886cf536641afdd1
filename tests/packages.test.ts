// The clients as users install them, from their packed form into an empty project: the SDK's
// `npm pack` tarball into a Node 20 project, where the README's example runs with plain node
// (and the process ends with it) and Deno imports it; the Python client through pip, where
// the MovieFlow document's parallel example (6 × generate_async + gather) completes under the
// hosted rate limit.
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { env, newUser, resetSims, ROOT, sql, timeExit, type TestUser } from "./helpers";

const scratch = mkdtempSync(`${tmpdir()}/installed-`);
const run = (command: string, args: string[], cwd = scratch) => promisify(execFile)(command, args, { cwd });
/** What a user's shell would hold: the project's URL and anon key and the user's sign-in. */
const userEnv = (user: TestUser) => ({
  ...process.env, SUPABASE_URL: env.API_URL, MOVIEFLOW_URL: env.API_URL, SUPABASE_ANON_KEY: env.ANON_KEY,
  MOVIEFLOW_EMAIL: user.email, MOVIEFLOW_PASSWORD: "correct-horse",
});

/** A short, small movie, so that the examples run in seconds (the document's are 60 s at 1080p). */
const oneScene = (name: string) => ({
  projectName: name, scenes: [{ id: "scene1", prompt: `${name}, a paper boat on a pond`, duration: 5 }], config: { resolution: "720x1280", quality: "low" },
});

/** The packages these need, all the way down, as the project's package-lock.json has them. */
function dependencyClosure(names: string[]): string[] {
  const lock = JSON.parse(readFileSync(`${ROOT}package-lock.json`, "utf8")).packages;
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    const entry = lock[`node_modules/${name}`];
    names.push(...Object.keys(entry.dependencies ?? {}));
  }
  return [...seen];
}

/** The README's code block that contains `marker`. */
function readmeBlock(marker: string): string {
  const blocks = [...readFileSync(`${ROOT}README.md`, "utf8").matchAll(/```\w*\n([\s\S]*?)```/g)].map((m) => m[1]);
  const block = blocks.find((b) => b.includes(marker));
  if (!block) throw new Error(`no README block with ${marker}`);
  return block;
}

beforeAll(async () => {
  await resetSims();
});

describe("the packed clients, installed as users install them", () => {
  it("the SDK's tarball installs into an empty Node project; the README's example runs with plain node and ends; Deno imports it", async () => {
    const user = await newUser(10_000);
    await run("npm", ["pack", "--silent", "--pack-destination", scratch], `${ROOT}packages/client`);
    // The registry is out of this test's network namespace: the SDK's dependencies come packed
    // from the project's own node_modules, as the registry would serve them.
    const sdk = JSON.parse(readFileSync(`${ROOT}packages/client/package.json`, "utf8"));
    await run("npm", ["pack", "--silent", ...dependencyClosure(Object.keys(sdk.dependencies)).map((d) => `${ROOT}node_modules/${d}`)]);
    writeFileSync(`${scratch}/package.json`, JSON.stringify({ name: "my-app", private: true, type: "module" }));
    await run("npm", ["install", "--offline", "--no-audit", "--no-fund", ...readdirSync(scratch).filter((f) => f.endsWith(".tgz")).map((f) => `./${f}`)]);
    expect(readdirSync(`${scratch}/node_modules/@reelforge/client/dist`)).toEqual(expect.arrayContaining(["index.js", "index.d.ts"]));

    // The README's example, with a one-scene spec in place of the 60 s template movie.
    const example = readmeBlock("new MovieFlowClient(").replace(/generateVideo\(.*\);$/m, `generateVideo(${JSON.stringify(oneScene("readme"))});`);
    expect(example).toContain(JSON.stringify(oneScene("readme")));
    writeFileSync(`${scratch}/example.mjs`, example);
    const node = await timeExit("node", ["example.mjs"], { cwd: scratch, env: userEnv(user) });
    expect(node.code, node.out).toBe(0);
    expect(node.out).toMatch(/Progress: \d+%/);
    expect(node.out).toContain(`Video URL: ${env.API_URL}/storage/v1/object/sign/outputs/`);
    expect(node.linger).toBeLessThan(1000);

    writeFileSync(`${scratch}/quote.mjs`, `import { MovieFlowClient } from "@reelforge/client";
console.log(JSON.stringify(await new MovieFlowClient().movies.quote(${JSON.stringify(oneScene("deno"))})));\n`);
    const deno = await timeExit(`${ROOT}node_modules/.bin/deno`, ["run", "-A", "--quiet", "quote.mjs"], { cwd: scratch, env: userEnv(user) });
    expect(deno.code, deno.out).toBe(0);
    expect(JSON.parse(deno.out)).toMatchObject({ estimatedCredits: expect.any(Number), explain: expect.stringMatching(/5 s segment/) });
  });

  it("pip installs the Python client; the document's 6 parallel generate_async complete under the hosted 60/min", async () => {
    const user = await newUser(10_000);
    // A copy, so that setuptools' build files stay out of the work tree.
    cpSync(`${ROOT}clients/python`, `${scratch}/movieflow-src`, { recursive: true, filter: (f) => !f.includes("__pycache__") });
    await run("/usr/bin/python3", ["-m", "pip", "install", "--quiet", "--no-index", "--no-build-isolation", "--target", `${scratch}/site`, `${scratch}/movieflow-src`]);
    const specs = Array.from({ length: 6 }, (_, i) => oneScene(`parallel-${i + 1}`));
    writeFileSync(`${scratch}/parallel.py`, `import asyncio, json
from movieflow import MovieFlow

mf = MovieFlow()
specs = ${JSON.stringify(specs)}

async def generate_async():
    tasks = [mf.generate_async(s) for s in specs]
    return await asyncio.gather(*tasks)

print(json.dumps([v.url for v in asyncio.run(generate_async())]))
`);
    await sql`update engine.settings set api_requests_per_minute = 60, api_burst = 10`;
    try {
      const py = await timeExit("/usr/bin/python3", ["parallel.py"], { cwd: scratch, env: { ...userEnv(user), PYTHONPATH: `${scratch}/site` } });
      expect(py.code, py.out).toBe(0);
      const urls: string[] = JSON.parse(py.out);
      expect(urls).toHaveLength(6);
      expect(new Set(urls).size).toBe(6);
      expect(urls.every((u) => /\/outputs\/.*movie\.mp4/.test(u))).toBe(true);
    } finally {
      await sql`update engine.settings set api_requests_per_minute = 1000000, api_burst = 1000000`;
    }
  });
});
