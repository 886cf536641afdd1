// Two functions' apps in a Deno process that has only the environment `supabase functions
// serve` gives functions (tests/deploy.test.ts): answers the requests given as JSON.
import { creditsApp } from "../packages/shared/src/api/credits.ts";
import { openApiApp } from "../packages/shared/src/api/openapi.ts";

const apps = { credits: creditsApp(), openapi: openApiApp() };
const answers = [];
for (const r of JSON.parse(Deno.args[0]) as { fn: keyof typeof apps; path: string; token?: string }[]) {
  const res = await apps[r.fn].fetch(new Request(`http://edge-runtime${r.path}`, { headers: r.token ? { authorization: `Bearer ${r.token}` } : {} }));
  answers.push({ status: res.status, body: await res.json() });
}
console.log(JSON.stringify(answers));
Deno.exit(0);
