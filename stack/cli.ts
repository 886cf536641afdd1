// The local stack: `start | stop | status | reset | gen-types`.
// Runs what `supabase start` runs, without Docker: PostgreSQL from the OS packages, the
// real supabase CLI for migrations, and Deno daemons for the gateway, pg_net's worker and
// the provider simulators.
import {
  API_URL,
  DB_PORT,
  DB_URL,
  ENV_FILE,
  ROOT,
  SIM_PORTS,
  STACK_DIR,
  stackEnv,
} from "./env.ts";
import { seedMusic } from "./music.ts";

const PG_BIN = "/usr/lib/postgresql/15/bin";
const IS_ROOT = Deno.uid() === 0;
const PG_DATA = await pgDataDir();
// Holds PG_DATA (owned by postgres) and the record of applied migrations.
const PG_HOME = PG_DATA.replace(/\/pgdata$/, "");
const APPLIED = `${PG_HOME}/reelforge-migrations.json`;
const DAEMONS = {
  gateway: { script: "stack/gateway.ts", health: `${API_URL}/_stack/health` },
  worker: { script: "stack/worker.ts", health: null },
  "media-worker": { script: "stack/media-worker.ts", health: null },
  simulators: {
    script: "simulators/main.ts",
    health: `http://127.0.0.1:${SIM_PORTS.novita}/_sim/health`,
  },
} as const;
type Daemon = keyof typeof DAEMONS;

/** .stack/pgdata, unless we are root and the postgres user cannot reach this checkout
 * (a clone under /root): then a directory of its own under /var/tmp, named by the checkout. */
async function pgDataDir() {
  const inCheckout = `${STACK_DIR}/pgdata`;
  if (!IS_ROOT) return inCheckout;
  await Deno.mkdir(STACK_DIR, { recursive: true });
  const reach = await new Deno.Command("runuser", { args: ["-u", "postgres", "--", "test", "-x", STACK_DIR] }).output();
  if (reach.success) return inCheckout;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(ROOT)));
  const id = [...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `/var/tmp/reelforge-${id}/pgdata`;
}

async function run(cmd: string[], opts: { asPostgres?: boolean; quiet?: boolean } = {}) {
  const argv = opts.asPostgres && IS_ROOT ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd;
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${argv.join(" ")} failed:\n${stdout}${new TextDecoder().decode(out.stderr)}`);
  }
  return stdout;
}

async function exists(path: string) {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function requireOsPackages() {
  const needs: [string, string][] = [
    [`${PG_BIN}/postgres`, "postgresql-15"],
    ["/usr/share/postgresql/15/extension/pg_cron.control", "postgresql-15-cron"],
    ["/usr/share/postgresql/15/extension/pgtap.control", "postgresql-15-pgtap"],
    ["/usr/share/postgresql/15/extension/plpgsql_check.control", "postgresql-15-plpgsql-check"],
    ["/usr/bin/ffmpeg", "ffmpeg"],
    ["/usr/bin/espeak-ng", "espeak-ng"],
    ["/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "fonts-wqy-microhei"],
  ];
  const missing = [];
  for (const [path, pkg] of needs) if (!(await exists(path))) missing.push(pkg);
  if (missing.length) {
    throw new Error(`missing OS packages; install them with: apt-get install -y ${missing.join(" ")}`);
  }
}

async function pgRunning() {
  try {
    await run([`${PG_BIN}/pg_isready`, "-h", "127.0.0.1", "-p", String(DB_PORT)]);
    return true;
  } catch {
    return false;
  }
}

async function psql(sqlFile: string) {
  await run(["psql", DB_URL, "-v", "ON_ERROR_STOP=1", "-q", "-f", sqlFile]);
}

async function initDatabase() {
  await Deno.mkdir(PG_DATA, { recursive: true });
  if (IS_ROOT) await run(["chown", "-R", "postgres:postgres", PG_HOME]);
  await run([`${PG_BIN}/initdb`, "-D", PG_DATA, "-U", "postgres", "--auth=trust", "-E", "UTF8"], {
    asPostgres: true,
  });
  // Loopback only and trust auth: a throwaway development database, as `supabase start`'s.
  await Deno.writeTextFile(
    `${PG_DATA}/postgresql.conf`,
    [
      `port = ${DB_PORT}`,
      "listen_addresses = '127.0.0.1'",
      "unix_socket_directories = ''",
      "max_connections = 300",
      "shared_preload_libraries = 'pg_cron'",
      "cron.database_name = 'postgres'",
      "log_min_messages = warning",
      "",
    ].join("\n"),
    { append: true },
  );
}

async function pgCtl(action: "start" | "restart" | "stop", mode: "fast" | "immediate" = "fast") {
  await run(
    [`${PG_BIN}/pg_ctl`, "-D", PG_DATA, "-l", `${PG_DATA}/server.log`, "-m", mode, "-w", "-t", "60", action],
    { asPostgres: true },
  );
}

async function startPostgres() {
  if (!(await pgRunning())) {
    const fresh = !(await exists(`${PG_DATA}/PG_VERSION`));
    if (fresh) await initDatabase();
    await pgCtl("start");
    if (fresh) {
      await psql(`${ROOT}/stack/platform.sql`);
      await pushMigrations(true);
      await psql(`${ROOT}/supabase/seed.sql`);
      // pg_cron 1.4's launcher, started before the extension existed, never runs jobs.
      await pgCtl("restart");
      return;
    }
  }
  await pushMigrations(false);
}

async function migrationHashes(): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for await (const f of Deno.readDir(`${ROOT}/supabase/migrations`)) {
    const bytes = await Deno.readFile(`${ROOT}/supabase/migrations/${f.name}`);
    hashes[f.name] = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
  return hashes;
}

/** Applies new migrations with the supabase CLI. A migration that changed after it was
 * applied, one that sorts before the last applied one (a merged branch's), or a database with
 * no record of what was applied cannot be brought up to date by a push: this throwaway
 * database is then made anew. */
async function pushMigrations(fresh: boolean) {
  const current = await migrationHashes();
  // A fresh database has applied nothing, whatever an old record says.
  const record = fresh ? "{}" : await Deno.readTextFile(APPLIED).catch(() => null);
  const applied: Record<string, string> = JSON.parse(record ?? "{}");
  const lastApplied = Object.keys(applied).sort().at(-1) ?? "";
  const insertedBefore = Object.keys(current).some((name) => !(name in applied) && name < lastApplied);
  if (record === null || insertedBefore || Object.entries(applied).some(([name, hash]) => current[name] !== hash)) {
    console.error("stack: migrations changed since this local database was made; recreating it");
    await stopDaemons();
    await pgCtl("stop");
    await Deno.remove(PG_DATA, { recursive: true });
    return await startPostgres();
  }
  if (Object.keys(current).every((name) => name in applied)) return;
  await run(["psql", DB_URL, "-c", "alter user postgres password 'postgres'"]);
  await run(["npx", "supabase", "db", "push", "--db-url", DB_URL, "--yes"]);
  await Deno.writeTextFile(APPLIED, JSON.stringify(current, null, 1));
}

function pidFile(name: Daemon) {
  return `${STACK_DIR}/${name}.pid`;
}

async function daemonPid(name: Daemon): Promise<number | null> {
  try {
    const pid = Number(await Deno.readTextFile(pidFile(name)));
    await run(["kill", "-0", String(pid)]);
    return pid;
  } catch {
    return null;
  }
}

async function healthy(url: string | null) {
  if (!url) return true;
  try {
    const res = await fetch(url);
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 30_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready within ${ms} ms`);
}

async function startDaemon(name: Daemon) {
  const { script, health } = DAEMONS[name];
  if ((await daemonPid(name)) && (await healthy(health))) return;
  await stopDaemon(name);
  const log = `${STACK_DIR}/${name}.log`;
  const deno = Deno.execPath();
  const pid = (await run([
    "bash",
    "-c",
    `setsid nohup "${deno}" run -A --quiet ${script} >>"${log}" 2>&1 < /dev/null & echo $!`,
  ])).trim();
  await Deno.writeTextFile(pidFile(name), pid);
  await waitFor(async () => (await daemonPid(name)) !== null && (await healthy(health)), name);
}

async function stopDaemon(name: Daemon) {
  const pid = await daemonPid(name);
  if (pid) {
    // setsid made the daemon a process-group leader: end the group, children included.
    await run(["kill", "--", `-${pid}`]).catch(() => {});
    await waitFor(async () => (await daemonPid(name)) === null, `${name} stop`, 10_000);
  }
  await Deno.remove(pidFile(name)).catch(() => {});
}

async function start() {
  await requireOsPackages();
  await Deno.mkdir(STACK_DIR, { recursive: true });
  await startPostgres();
  // The web app the gateway serves at /app/ (under a second: esbuild).
  await run(["node", `${ROOT}/apps/web/build.mjs`], { quiet: true });
  for (const name of Object.keys(DAEMONS) as Daemon[]) await startDaemon(name);
  const env = await stackEnv();
  const lines = Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n");
  await Deno.writeTextFile(ENV_FILE, lines + "\n");
  await seedMusic(env.SERVICE_ROLE_KEY);
  console.log(lines);
}

async function stopDaemons() {
  for (const name of Object.keys(DAEMONS) as Daemon[]) await stopDaemon(name);
}

async function stop() {
  await stopDaemons();
  if (await pgRunning()) await pgCtl("stop");
}

async function status() {
  const rows: [string, boolean][] = [["postgres", await pgRunning()]];
  for (const name of Object.keys(DAEMONS) as Daemon[]) {
    rows.push([name, (await daemonPid(name)) !== null && (await healthy(DAEMONS[name].health))]);
  }
  for (const [name, up] of rows) console.log(`${name.padEnd(11)} ${up ? "running" : "stopped"}`);
  return rows.every(([, up]) => up);
}

async function genTypes() {
  const types = await run(["npx", "supabase", "gen", "types", "typescript", "--db-url", DB_URL, "--schema", "public,engine"]);
  return types;
}

const commands: Record<string, () => Promise<unknown>> = {
  start,
  stop,
  status: async () => {
    if (!(await status())) Deno.exitCode = 1;
  },
  reset: async () => {
    await stop();
    await Deno.remove(PG_DATA, { recursive: true }).catch(() => {});
    await start();
  },
  "restart-postgres": () => pgCtl("restart"),
  // A crash: no shutdown checkpoint, recovery from the WAL on start (for fault tests).
  "crash-postgres": () => pgCtl("restart", "immediate"),
  "gen-types": async () => {
    await Deno.writeTextFile(`${ROOT}/packages/shared/src/database.types.ts`, await genTypes());
  },
  "print-types": async () => console.log(await genTypes()),
};

const command = commands[Deno.args[0] ?? ""];
if (!command) {
  console.error(`usage: npm run stack -- ${Object.keys(commands).join("|")}`);
  Deno.exit(2);
}
try {
  await command();
} catch (err) {
  console.error(`stack: ${err instanceof Error ? err.message : err}`);
  Deno.exit(1);
}
