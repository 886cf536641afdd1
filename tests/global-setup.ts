// The suite signs up many users and fires hundreds of requests per user (fuzzing), so
// tests/helpers.ts raises the per-user API rate limit (and turns the welcome grant off) for the run (again in every test file:
// the stack test recreates the database); this puts the hosted numbers back after it. The
// test of the limit itself sets them for its own requests.
import { existsSync, readFileSync } from "node:fs";
import postgres from "postgres";

export async function teardown() {
  // Unit tests (`*.unit.test.ts`) run without a stack: then there is nothing to put back.
  const envFile = new URL("../.stack/env", import.meta.url);
  if (!existsSync(envFile)) return;
  const dbUrl = readFileSync(envFile, "utf8").match(/^DB_URL=(.*)$/m)![1];
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  await sql`update engine.settings set api_requests_per_minute = 60, api_burst = 10, welcome_credits = 500`;
  await sql.end();
}
