// SQL from functions with postgres.js. User calls run as the `authenticated` role with the
// caller's JWT claims set, as PostgREST does, so RLS and auth.uid() apply in the database.
import postgres from "postgres";
import { config } from "./config.ts";
import { fromDatabaseError } from "./errors.ts";
import type { JwtClaims } from "./jwt.ts";

export type Sql = postgres.Sql;

let pool: Sql | undefined;

export function db(): Sql {
  pool ??= postgres(config().SUPABASE_DB_URL, {
    max: config().DB_POOL_MAX,
    idle_timeout: 20,
    onnotice: () => {},
    // Supabase's pooler (transaction mode) does not keep prepared statements.
    prepare: false,
  });
  return pool;
}

/** Runs fn in a transaction as the signed-in user; database errors become catalog errors. */
export async function asUser<T>(claims: JwtClaims, fn: (sql: postgres.TransactionSql) => Promise<T>): Promise<T> {
  try {
    return await db().begin(async (sql) => {
      await sql`select set_config('role', 'authenticated', true),
                       set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
      return await fn(sql);
    }) as T;
  } catch (err) {
    throw fromDatabaseError(err);
  }
}
