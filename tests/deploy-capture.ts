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

/** Runs the CLI's deploy of every function in `projectDir` and writes each upload to `outDir/<slug>/<path as uploaded>`. */
export async function captureDeploy(projectDir: string, outDir: string): Promise<{ code: number; output: string; uploads: Record<string, Upload> }> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const uploads: Record<string, Upload> = {};
  let version = 0;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url!, "http://x");
    const send = (status: number, json: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    if (req.method === "POST" && url.pathname === `/v1/projects/${REF}/functions/deploy`) {
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
    if (req.method === "GET" && url.pathname === `/v1/projects/${REF}/functions`) return send(200, []);
    if (req.method === "PUT" && url.pathname === `/v1/projects/${REF}/functions`) return send(200, {});
    // GET /v1/projects/<ref> may 404: the CLI then caches nothing under supabase/.temp.
    send(404, { message: `no ${req.method} ${url.pathname} here` });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const home = mkdtempSync(path.join(tmpdir(), "reelforge-deploy-"));
  const profile = path.join(home, "profile.yaml");
  writeFileSync(profile, `name: local-capture\napi_url: http://127.0.0.1:${port}\ndashboard_url: http://127.0.0.1:${port}/dashboard\nproject_host: capture.local\n`);
  const cli = path.join(projectDir, "node_modules/@supabase/cli-linux-x64/bin/supabase");
  const child = spawn(cli, ["functions", "deploy", "--use-api", `--remote=${REF}`, "--yes", "--profile", profile], {
    cwd: projectDir,
    env: {
      PATH: process.env.PATH, HOME: home, SUPABASE_HOME: path.join(home, ".supabase"), SUPABASE_ACCESS_TOKEN: TOKEN,
      SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1", SUPABASE_NO_UPDATE_NOTIFIER: "1", SUPABASE_NO_KEYRING: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const code = await new Promise<number>((r) => child.on("close", (c) => r(c ?? 1)));
  server.close();
  rmSync(home, { recursive: true, force: true });
  return { code, output, uploads };
}
