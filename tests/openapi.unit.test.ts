// The OpenAPI document: checked in as generated from the request schemas, and naming exactly
// the routes the public functions serve.
import { readFileSync } from "node:fs";
import { parse } from "smol-toml";
import { expect, it } from "vitest";
import { animeVideoApp } from "../packages/shared/src/api/anime-video";
import { apiKeysApp } from "../packages/shared/src/api/api-keys";
import { assetsApp } from "../packages/shared/src/api/assets";
import { creditsApp } from "../packages/shared/src/api/credits";
import { generationApp } from "../packages/shared/src/api/generation";
import { generationsApp } from "../packages/shared/src/api/generations";
import { taskApp, videoApp } from "../packages/shared/src/api/movie";
import { INTERNAL_FUNCTIONS, openApiDocument } from "../packages/shared/src/api/openapi";
import { quoteApp } from "../packages/shared/src/api/quote";
import { novitaWebhookApp } from "../packages/shared/src/api/tasks";
import { webhooksApp } from "../packages/shared/src/api/webhooks";

const ROOT = new URL("..", import.meta.url).pathname;
const PUBLIC_APPS = {
  generations: generationsApp, quote: quoteApp, credits: creditsApp, "anime-video": animeVideoApp, generation: generationApp,
  video: videoApp, task: taskApp, assets: assetsApp, "handle-novita-webhook": novitaWebhookApp, webhooks: webhooksApp,
  "api-keys": apiKeysApp,
};

it("docs/openapi.json is what the schemas make now (run npm run gen:openapi)", () => {
  const checkedIn = JSON.parse(readFileSync(`${ROOT}docs/openapi.json`, "utf8"));
  expect(checkedIn).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  expect(checkedIn.openapi).toBe("3.1.0");
});

it("documents every route of every public function, and nothing else", () => {
  const functions = Object.keys((parse(readFileSync(`${ROOT}supabase/config.toml`, "utf8")) as { functions: Record<string, unknown> }).functions);
  expect(functions.filter((f) => !INTERNAL_FUNCTIONS.has(f) && f !== "openapi").sort()).toEqual(Object.keys(PUBLIC_APPS).sort());
  const served = new Set<string>();
  for (const app of Object.values(PUBLIC_APPS)) {
    for (const r of app().routes) {
      if (r.method === "ALL") continue;
      served.add(`${r.method} ${r.path.replace(/\/$/, "").replace(/:(\w+)/g, "{$1}")}`);
    }
  }
  const documented = Object.entries(openApiDocument().paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
  expect([...documented].sort()).toEqual([...served].sort());
});

it("request bodies are the validating schemas: limits and enums show", () => {
  const doc = openApiDocument() as any;
  const cinematic = doc.paths["/generations"].post.requestBody.content["application/json"].schema;
  expect(cinematic).toMatchObject({ additionalProperties: false, properties: { idea: { minLength: 3, maxLength: 1000 } } });
  const movie = doc.paths["/video/generate"].post.requestBody.content["application/json"].schema;
  expect(JSON.stringify(movie)).toContain('"maxItems":6');
  const list = doc.paths["/generations"].get.parameters.map((p: { name: string }) => p.name);
  expect(list).toEqual(["limit", "cursor", "status", "pipeline"]);
});
