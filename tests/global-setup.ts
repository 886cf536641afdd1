// The suite signs up many users and fires hundreds of requests per user (fuzzing): the
// per-user API rate limit is raised for the run and restored after. The test of the limit
// itself sets the hosted numbers back for its own user's requests.
import { readFileSync } from "node:fs";
import postgres from "postgres";

const dbUrl = () => readFileSync(new URL("../.stack/env", import.meta.url), "utf8").match(/^DB_URL=(.*)$/m)![1];

export async function setup() {
  const sql = postgres(dbUrl(), { max: 1, onnotice: () => {} });
  await sql`update engine.settings set api_requests_per_minute = 1000000, api_burst = 1000000`;
  await sql.end();
}

export async function teardown() {
  const sql = postgres(dbUrl(), { max: 1, onnotice: () => {} });
  await sql`update engine.settings set api_requests_per_minute = 60, api_burst = 10`;
  await sql.end();
}
