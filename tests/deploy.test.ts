// Deploying as the README says: what `supabase functions deploy` uploads is enough to run
// each function (checked with nothing but the upload), and the functions run with the
// environment `supabase functions serve` and hosted projects give them.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SignJWT } from "jose";
import { parse } from "smol-toml";
import { expect, it } from "vitest";
import { captureDeploy, managementApi } from "./deploy-capture";
import { env, newUser, ROOT } from "./helpers";

const DENO = `${ROOT}node_modules/.bin/deno`;
const IMPORT_MAP = "supabase/functions/import_map.json";

it("supabase functions deploy uploads each function with its import map, and the upload alone type-checks", async () => {
  const out = mkdtempSync(path.join(tmpdir(), "reelforge-uploads-"));
  const { code, output, uploads } = await captureDeploy(ROOT, out);
  expect(code, output).toBe(0);
  const config = (parse(readFileSync(`${ROOT}supabase/config.toml`, "utf8")) as { functions: Record<string, { verify_jwt: boolean }> }).functions;
  expect(Object.keys(uploads).sort()).toEqual(Object.keys(config).sort());
  for (const [name, u] of Object.entries(uploads)) {
    expect(u.metadata, name).toMatchObject({ name, entrypoint_path: `supabase/functions/${name}/index.ts`, import_map_path: IMPORT_MAP, verify_jwt: config[name].verify_jwt });
    expect(u.files, name).toContain(IMPORT_MAP);
    expect(u.files, name).not.toContain("deno.json");
  }
  // Each function from its own upload only: no deno.json, no node_modules (npm packages
  // come from the registry, as on hosted).
  const check = spawnSync(DENO, ["check", "--no-config", "--quiet", "--import-map", path.join(out, "generations", IMPORT_MAP),
    ...Object.keys(uploads).map((name) => path.join(out, name, `supabase/functions/${name}/index.ts`))], { cwd: out, encoding: "utf8" });
  expect(check.status, check.stderr).toBe(0);
  expect(existsSync(path.join(out, "node_modules"))).toBe(false);
}, 300_000);

it("runs with what supabase functions serve sets: SUPABASE_URL=http://kong:8000, keys in SUPABASE_JWKS, no JWT_SECRET", async () => {
  const user = await newUser(250);
  const jwks = await (await fetch(`${env.API_URL}/auth/v1/.well-known/jwks.json`)).json();
  // The CLI adds the legacy secret to the set as an "oct" key.
  jwks.keys.push({ kty: "oct", k: Buffer.from(env.JWT_SECRET).toString("base64url") });
  const legacy = await new SignJWT({ role: "authenticated", aud: "authenticated", session_id: crypto.randomUUID() })
    .setProtectedHeader({ alg: "HS256" }).setSubject(user.id).setExpirationTime("5m").sign(new TextEncoder().encode(env.JWT_SECRET));
  const forged = await new SignJWT({ role: "authenticated", aud: "authenticated", session_id: crypto.randomUUID() })
    .setProtectedHeader({ alg: "HS256" }).setSubject(user.id).setExpirationTime("5m").sign(new TextEncoder().encode("x".repeat(40)));
  const requests = [
    { fn: "credits", path: "/credits", token: user.token },
    { fn: "credits", path: "/credits", token: legacy },
    { fn: "credits", path: "/credits", token: forged },
    { fn: "openapi", path: "/openapi" },
  ];
  const answers = JSON.parse(execFileSync(DENO, ["run", "-A", "--quiet", "tests/serve-env-probe.ts", JSON.stringify(requests)], {
    cwd: ROOT,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME,
      SUPABASE_URL: "http://kong:8000", SUPABASE_ANON_KEY: env.ANON_KEY, SUPABASE_SERVICE_ROLE_KEY: env.SERVICE_ROLE_KEY,
      SUPABASE_DB_URL: env.DB_URL, SUPABASE_JWKS: JSON.stringify(jwks),
    },
  }));
  expect(jwtAlg(user.token)).toBe("ES256");
  expect(answers[0]).toMatchObject({ status: 200, body: { balance: 250 } });
  expect(answers[1]).toMatchObject({ status: 200, body: { balance: 250 } });
  expect(answers[2]).toMatchObject({ status: 401, body: { error: { code: "UNAUTHORIZED" } } });
  // URLs given out name the host's API port, not the Docker network's kong.
  expect(answers[3].body.servers).toEqual([{ url: "http://127.0.0.1:54321/functions/v1" }]);
});

/** The README's deploy block, one command per line (comments dropped). */
function readmeDeploySteps(): string[] {
  const readme = readFileSync(`${ROOT}README.md`, "utf8");
  const section = readme.slice(readme.indexOf("## Deploy to a Supabase project"));
  const block = section.match(/```sh\n([\s\S]*?)\n```/)![1];
  return block.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter(Boolean);
}

it("the README's deploy steps, line by line with the pinned CLI: login, link, db push to the linked project, secrets, functions deploy without Docker", async () => {
  const steps = readmeDeploySteps();
  expect(steps.map((l) => l.split(" ").slice(0, 4).join(" "))).toEqual([
    "npx supabase login --token", "npx supabase link --project-ref", "npx supabase db push", "npx supabase secrets set", "npx supabase functions deploy",
  ]);
  // A checkout of the project as an operator has it (link writes supabase/.temp into it).
  const project = mkdtempSync(path.join(tmpdir(), "reelforge-project-"));
  for (const f of execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" }).trim().split("\n")) {
    if (f.startsWith("supabase/") || f.startsWith("packages/shared/") || f === "deno.json") cpSync(`${ROOT}${f}`, path.join(project, f));
  }
  symlinkSync(`${ROOT}node_modules`, path.join(project, "node_modules"));
  const api = await managementApi(mkdtempSync(path.join(tmpdir(), "reelforge-uploads-")));
  try {
    const run = async (line: string) => {
      const args = line.replace(/^npx supabase /, "").replace("<access token>", api.token).replace("<ref>", api.ref)
        .replace("<database password>", "postgres").split(/\s+/);
      // Answers the confirmation an operator's terminal would ask for (this is no terminal).
      const confirmed = /^(db push|secrets set|functions deploy)/.test(args.slice(0, 2).join(" ")) ? [...args, "--yes"] : args;
      return { line, ...(await api.cli(project, confirmed)) };
    };
    const [login, link, push, secrets, deploy] = steps;

    const loggedIn = await run(login);
    expect(loggedIn.code, loggedIn.output).toBe(0);
    expect(api.requests).toContain("GET /v1/profile");

    const linked = await run(link);
    expect(linked.code, linked.output).toBe(0);
    expect(readFileSync(path.join(project, "supabase/.temp/project-ref"), "utf8").trim()).toBe(api.ref);

    // The linked project's database, not the local one; its pooler host does not resolve here.
    const pushed = await run(push);
    expect(pushed.output).toContain(`Target: project reelforge (${api.ref})`);
    expect(pushed.output).not.toMatch(/127\.0\.0\.1:54322|Local database/i);

    const set = await run(secrets);
    expect(set.code, set.output).toBe(0);
    expect(Object.keys(api.secrets).sort()).toEqual(["GEMINI_API_KEY", "KIE_API_KEY", "NOVITA_API_KEY"]);

    const deployed = await run(deploy);
    expect(deployed.code, deployed.output).toBe(0);
    const config = (parse(readFileSync(`${ROOT}supabase/config.toml`, "utf8")) as { functions: Record<string, unknown> }).functions;
    expect(Object.keys(api.uploads).sort()).toEqual(Object.keys(config).sort());
  } finally {
    api.close();
  }
}, 300_000);

function jwtAlg(token: string) {
  return JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString()).alg;
}
