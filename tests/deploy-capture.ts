// What `supabase functions deploy` uploads, captured offline: the real CLI deploys to a
// stand-in of the Management API on 127.0.0.1 (named by a CLI profile file; the CLI speaks
// the same endpoints to api.supabase.com), which keeps each function's files and metadata.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export type Upload = {
  metadata: { entrypoint_path: string; import_map_path: string; verify_jwt?: boolean; name: string; static_patterns: string[] };
  files: string[];
};

const REF = "abcdefghijklmnopqrst"; // a project ref: exactly 20 lowercase letters
const TOKEN = `sbp_${"0123456789abcdef".repeat(3).slice(0, 40)}`;

/** A stand-in of the Management API on 127.0.0.1: what login, link, secrets and functions
 * deploy ask of it, with the shapes the CLI checks. Each function's upload is written to
 * `outDir/<slug>/<path as uploaded>`; every request is recorded. The project's database is the
 * pooler the API names (`poolerPort`). */
export async function managementApi(outDir: string, poolerPort = 5432) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const uploads: Record<string, Upload> = {};
  const requests: string[] = [];
  const secrets: Record<string, string> = {};
  let version = 0;
  const project = { id: REF, ref: REF, organization_id: "org", organization_slug: "org", name: "reelforge", region: "eu-central-1",
    created_at: "2026-01-01T00:00:00Z", status: "ACTIVE_HEALTHY", database: { host: `db.${REF}.capture.local`, version: "15.8.1.000", postgres_engine: "15", release_channel: "ga" } };
  const pooler = `postgresql://postgres.${REF}:[YOUR-PASSWORD]@aws-0-eu-central-1.pooler.capture.local:${poolerPort}/postgres`;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url!, "http://x");
    requests.push(`${req.method} ${url.pathname}`);
    const send = (status: number, json: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    const base = `/v1/projects/${REF}`;
    if (req.method === "POST" && url.pathname === `${base}/functions/deploy`) {
      const slug = url.searchParams.get("slug")!;
      const form = await new Response(Buffer.concat(chunks), { headers: { "content-type": req.headers["content-type"]! } }).formData();
      const upload: Upload = { metadata: JSON.parse(String(form.get("metadata"))), files: [] };
      const dir = path.join(outDir, slug);
      for (const f of form.getAll("file") as File[]) {
        const dest = path.resolve(dir, f.name);
        if (!dest.startsWith(dir + path.sep)) return send(400, { message: `path escapes: ${f.name}` });
        mkdirSync(path.dirname(dest), { recursive: true });
        writeFileSync(dest, Buffer.from(await f.arrayBuffer()));
        upload.files.push(f.name);
      }
      uploads[slug] = upload;
      return send(201, { id: crypto.randomUUID(), slug, name: slug, status: "ACTIVE", version: ++version, verify_jwt: upload.metadata.verify_jwt });
    }
    if (req.method === "GET" && url.pathname === "/v1/profile") return send(200, { gotrue_id: "ops", primary_email: "ops@example.com", username: "ops" });
    if (req.method === "GET" && url.pathname === base) return send(200, project);
    if (req.method === "GET" && url.pathname === `${base}/api-keys`) return send(200, [{ name: "anon", api_key: "anon-key" }, { name: "service_role", api_key: "service-key" }]);
    if (req.method === "GET" && url.pathname === `${base}/config/database/pooler`) {
      return send(200, [{ identifier: REF, database_type: "PRIMARY", is_using_scram_auth: true, db_user: `postgres.${REF}`, db_host: `aws-0-eu-central-1.pooler.capture.local`,
        db_port: poolerPort, db_name: "postgres", connection_string: pooler, default_pool_size: 15, max_client_conn: 200, pool_mode: "session" }]);
    }
    if (req.method === "POST" && url.pathname === `${base}/secrets`) {
      for (const { name, value } of JSON.parse(Buffer.concat(chunks).toString()) as { name: string; value: string }[]) secrets[name] = value;
      return send(201, {});
    }
    if (req.method === "GET" && url.pathname === `${base}/functions`) return send(200, []);
    if (req.method === "PUT" && url.pathname === `${base}/functions`) return send(200, {});
    // Anything else may 404: the CLI then caches nothing under supabase/.temp.
    send(404, { message: `no ${req.method} ${url.pathname} here` });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const home = mkdtempSync(path.join(tmpdir(), "reelforge-deploy-"));
  const profile = path.join(home, "profile.yaml");
  writeFileSync(profile, `name: local-capture\napi_url: http://127.0.0.1:${port}\ndashboard_url: http://127.0.0.1:${port}/dashboard\nproject_host: capture.local\n`);
  return {
    uploads, requests, secrets, ref: REF, token: TOKEN,
    /** The pinned CLI (what `npx supabase` runs) against this API, as an operator's shell would run it. */
    cli: async (projectDir: string, args: string[], extraEnv: Record<string, string> = {}) => {
      const cli = path.join(projectDir, "node_modules/@supabase/cli-linux-x64/bin/supabase");
      const child = spawn(cli, [...args, "--profile", profile], {
        cwd: projectDir,
        env: {
          PATH: process.env.PATH, HOME: home, SUPABASE_HOME: path.join(home, ".supabase"),
          SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1", SUPABASE_NO_UPDATE_NOTIFIER: "1", SUPABASE_NO_KEYRING: "1", ...extraEnv,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
      const code = await new Promise<number>((r) => child.on("close", (c) => r(c ?? 1)));
      return { code, output };
    },
    close: () => {
      server.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Runs the CLI's deploy of every function in `projectDir` and writes each upload to `outDir/<slug>/<path as uploaded>`. */
export async function captureDeploy(projectDir: string, outDir: string): Promise<{ code: number; output: string; uploads: Record<string, Upload> }> {
  const api = await managementApi(outDir);
  const { code, output } = await api.cli(projectDir, ["functions", "deploy", "--use-api", `--remote=${REF}`, "--yes"], { SUPABASE_ACCESS_TOKEN: TOKEN });
  api.close();
  return { code, output, uploads: api.uploads };
}
