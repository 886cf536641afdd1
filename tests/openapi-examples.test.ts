// The OpenAPI document's examples are real answers: this test makes the requests on the local
// stack and checks that every example has the keys the real answer has (and the answers
// parse with the documented schemas). UPDATE_OPENAPI_EXAMPLES=1 writes the answers as the
// examples (packages/shared/src/api/openapi-examples.ts); then run npm run gen:openapi.
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { contractStatusSchema, creditsSchema, generationSchema } from "../packages/shared/src/api/openapi";
import { EXAMPLES } from "../packages/shared/src/api/openapi-examples";
import { call, env, newUser, resetSims, ROOT } from "./helpers";

/** The keys of an answer, all the way down (an array by its first item). */
function keys(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [keys(value[0])] : [];
  if (value && typeof value === "object") return Object.fromEntries(Object.keys(value).sort().map((k) => [k, keys((value as Record<string, unknown>)[k])]));
  return value === null ? null : typeof value;
}
/** Keys only: a value that may be null (a URL before the video exists) is not a difference. */
const sameKeys = (a: unknown, b: unknown): boolean => {
  const [x, y] = [keys(a), keys(b)];
  const walk = (p: unknown, q: unknown): boolean =>
    p === null || q === null || typeof p !== "object" || typeof q !== "object"
      ? true
      : Array.isArray(p) || Array.isArray(q)
      ? !Array.isArray(p) || !Array.isArray(q) || !p.length || !q.length || walk(p[0], q[0])
      : JSON.stringify(Object.keys(p as object)) === JSON.stringify(Object.keys(q as object)) &&
        Object.keys(p as object).every((k) => walk((p as Record<string, unknown>)[k], (q as Record<string, unknown>)[k]));
  return walk(x, y);
};

/** Real answers say where the local stack is; the examples say a hosted project. */
const hosted = (answer: unknown) => JSON.parse(JSON.stringify(answer).replaceAll(env.API_URL, "https://your-project.supabase.co"));

describe("the OpenAPI examples", () => {
  it("are the answers the API gives now", async () => {
    await resetSims();
    const user = await newUser(2000);
    const answers: Record<string, unknown> = {};
    const ask = async (method: string, documented: string, path: string, body?: unknown) => {
      const res = await call(user.token, method, path, body);
      answers[`${method.toLowerCase()} ${documented}`] = hosted(res.body);
      return res;
    };
    const movie = { projectName: "example", scenes: [{ id: "scene1", prompt: "a paper boat on a pond", duration: 5 }] };
    await ask("POST", "/quote", "quote", { duration: 5 });
    const created = await ask("POST", "/generations", "generations", { idea: "a paper boat on a pond" });
    const id = created.body.generation.id;
    await ask("GET", "/generations/{id}", `generations/${id}`);
    await ask("GET", "/generations", "generations?limit=1");
    await ask("GET", "/generation/status/{id}", `generation/status/${id}`);
    await ask("POST", "/generations/{id}/cancel", `generations/${id}/cancel`);
    await ask("GET", "/credits", "credits?limit=2");
    await ask("POST", "/video/quote", "video/quote", movie);
    const task = await ask("POST", "/video/generate", "video/generate", movie);
    await ask("GET", "/task/{id}", `task/${task.body.taskId}`);
    await ask("DELETE", "/task/{id}", `task/${task.body.taskId}`);
    const missing = await call(user.token, "GET", "generations/00000000-0000-0000-0000-000000000000");
    answers.error = hosted(missing.body);

    expect(generationSchema.safeParse(created.body.generation).error).toBeUndefined();
    expect(creditsSchema.safeParse(answers["get /credits"]).error).toBeUndefined();
    expect(contractStatusSchema.safeParse(answers["get /generation/status/{id}"]).error).toBeUndefined();
    if (process.env.UPDATE_OPENAPI_EXAMPLES) {
      writeFileSync(
        `${ROOT}packages/shared/src/api/openapi-examples.ts`,
        `// Real answers of the API, as the OpenAPI document's examples (written by tests/openapi-examples.test.ts\n` +
          `// with UPDATE_OPENAPI_EXAMPLES=1; keyed by "method path" as documented, plus the error envelope).\n` +
          `export const EXAMPLES: Record<string, unknown> = ${JSON.stringify(answers, null, 2)};\n`,
      );
    }
    for (const [key, answer] of Object.entries(answers)) {
      expect(EXAMPLES[key], `no example for ${key}`).toBeTruthy();
      expect(sameKeys(EXAMPLES[key], answer), `${key}: the example's keys are not the answer's: ${JSON.stringify(keys(answer))}`).toBe(true);
    }
  });
});
