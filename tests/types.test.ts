// The checked-in database types must match the migrations.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { ROOT } from "./helpers";

it("packages/shared/src/database.types.ts is what supabase gen types makes now (run npm run gen:types)", () => {
  const fresh = execFileSync(`${ROOT}node_modules/.bin/deno`, ["run", "-A", "--quiet", "stack/cli.ts", "print-types"], { cwd: ROOT, encoding: "utf8" });
  expect(readFileSync(`${ROOT}packages/shared/src/database.types.ts`, "utf8").trim()).toBe(fresh.trim());
});
