// The OpenAPI 3.1 document of the public API, made from the same zod schemas that validate
// requests (z.toJSONSchema), and the schemas of the main answers. docs/openapi.json is this
// document checked in, with real answers as examples (openapi-examples.ts); tests/openapi.unit.test.ts
// fails when it drifts from the schemas or the routes, or does not validate.
import { z } from "zod";
import { config } from "../config.ts";
import { ERROR_STATUS } from "../errors.ts";
import { functionApp } from "../http.ts";
import { videoRequest } from "../models.ts";
import { movieRequest, segmentRequest } from "../movie.ts";
import { API_STATUSES, PIPELINES } from "../status.ts";
import { characterRequest, optimizeRequest } from "./anime-video.ts";
import { apiKeyRequest } from "./api-keys.ts";
import { assetListQuery, assetMetadata, editRequest } from "./assets.ts";
import { ledgerQuery } from "./credits.ts";
import { galleryQuery } from "./generation.ts";
import { cinematicRequest, listQuery } from "./generations.ts";
import { batchRequest, retryRequest } from "./movie.ts";
import { fromSpecRequest, planRequest, specifyRequest } from "./plan.ts";
import { quoteRequest } from "./quote.ts";
import { templateBody, templateRequest } from "./templates.ts";
import { EXAMPLES } from "./openapi-examples.ts";
import { webhookRequest } from "./webhooks.ts";

// -- the main answers ------------------------------------------------------------------------

const errorEnvelope = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS]),
    message: z.string(),
    details: z.unknown(),
    requestId: z.string(),
    timestamp: z.string(),
  }),
}).meta({ id: "Error" });

const nullableUrl = z.string().url().nullable();

export const generationSchema = z.object({
  id: z.uuid(),
  pipeline: z.enum(PIPELINES),
  status: z.enum(API_STATUSES),
  step: z.string().nullable(),
  progress: z.number().int().min(0).max(100),
  queue_position: z.number().int().nullable().describe("1 = the next of the owner's queued runs to start"),
  inputs: z.record(z.string(), z.unknown()),
  script: z.unknown(),
  video_url: nullableUrl,
  base_image_url: nullableUrl,
  merged_image_url: nullableUrl,
  error: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
  credits: z.object({
    reserved: z.number().int().describe("held now by this run (0 once it ended)"),
    charged: z.number().int(),
    refunded: z.number().int(),
  }),
  visibility: z.enum(["public", "private"]),
  created_at: z.string(),
  updated_at: z.string(),
  completed_at: z.string().nullable(),
}).meta({ id: "Generation" });

export const generationPage = z.object({ generations: z.array(generationSchema), next_cursor: z.string().nullable() });

export const creditsSchema = z.object({
  balance: z.number().int(),
  reserved: z.number().int().describe("held by runs that have not ended"),
  ledger: z.array(z.object({
    id: z.string(), kind: z.enum(["grant", "reserve", "capture", "refund", "release"]), amount: z.number().int(),
    generation_id: z.uuid().nullable(), step: z.string().nullable(), task_index: z.number().int().nullable(),
    reason: z.string().nullable(), created_at: z.string(),
  })),
  next_cursor: z.string().nullable(),
}).meta({ id: "Credits" });

export const contractStatusSchema = z.object({
  uuid: z.uuid(),
  status: z.enum(["pending", "processing", "completed", "failed"]).describe("the contract's words; canceled reads as failed"),
  state: z.enum(API_STATUSES),
  progress: z.number().int(),
  results: z.array(z.object({ video_url: z.string().url(), poster_url: nullableUrl })),
  error_message: z.string().nullable(),
  credits_used: z.number().int(),
}).meta({ id: "GenerationStatus" });

export const gallerySchema = z.object({
  success: z.literal(true),
  data: z.array(z.object({ uuid: z.uuid(), pipeline: z.enum(PIPELINES), completed_at: z.string(), video_url: z.string().url(), poster_url: nullableUrl })),
  next_cursor: z.string().nullable(),
});

const apiKeySchema = z.object({
  id: z.uuid(), name: z.string(), prefix: z.string().describe("the key's first characters, to tell keys apart"),
  createdAt: z.string(), lastUsedAt: z.string().nullable(),
}).meta({ id: "ApiKey" });
const apiKeyCreated = apiKeySchema.extend({ key: z.string().describe("the key (rf_live_...): shown this once, stored only as a hash") });

const quoteAnswer = z.object({ estimated_credits: z.number().int(), explain: z.string() });
const movieQuoteAnswer = z.object({ estimatedCredits: z.number().int(), explain: z.string() });
const anyObject = z.record(z.string(), z.unknown());
const generationAnswer = z.object({ generation: generationSchema });

// -- the operations ----------------------------------------------------------------------------

type Operation = {
  method: "get" | "post" | "put" | "delete";
  /** /<function>/<route>, path parameters as {name}. */
  path: string;
  summary: string;
  tag: string;
  /** Webhooks are called by providers with a token or a signature, not a user's JWT. */
  public?: true;
  body?: z.ZodType;
  multipart?: z.ZodType;
  query?: z.ZodObject;
  ok: { status: number; schema: z.ZodType; description?: string };
};

const movieBody = z.union([movieRequest, templateRequest]);

export const OPERATIONS: Operation[] = [
  { method: "post", path: "/generations", tag: "cinematic", summary: "Create a cinematic generation (idea, optional selfie)", body: cinematicRequest, ok: { status: 201, schema: generationAnswer } },
  { method: "get", path: "/generations", tag: "generations", summary: "My generations of every pipeline, newest first, in pages", query: listQuery, ok: { status: 200, schema: generationPage } },
  { method: "get", path: "/generations/{id}", tag: "generations", summary: "One generation with its tasks and event log", ok: { status: 200, schema: anyObject } },
  { method: "post", path: "/generations/{id}/cancel", tag: "generations", summary: "Cancel: unfinished work stops, started work stays charged", ok: { status: 200, schema: generationAnswer } },
  { method: "post", path: "/generations/{id}/retry", tag: "generations", summary: "Retry a failed generation from its failed steps", ok: { status: 200, schema: generationAnswer } },
  { method: "post", path: "/quote", tag: "cinematic", summary: "The price of a cinematic generation (charges nothing)", body: quoteRequest, ok: { status: 200, schema: quoteAnswer } },
  { method: "get", path: "/credits", tag: "credits", summary: "Balance, credits held by unfinished runs, and the ledger in pages", query: ledgerQuery, ok: { status: 200, schema: creditsSchema } },
  { method: "post", path: "/anime-video/create-task", tag: "model-direct", summary: "Create one kie.ai video task", body: videoRequest, ok: { status: 201, schema: anyObject } },
  { method: "post", path: "/anime-video/quote", tag: "model-direct", summary: "The price of a model-direct video", body: videoRequest, ok: { status: 200, schema: quoteAnswer } },
  { method: "post", path: "/anime-video/optimize-prompt", tag: "model-direct", summary: "Rewrite a prompt for video models", body: optimizeRequest, ok: { status: 200, schema: anyObject } },
  { method: "post", path: "/anime-video/characters", tag: "model-direct", summary: "Save a character with a reference image", body: characterRequest, ok: { status: 201, schema: anyObject } },
  { method: "get", path: "/anime-video/characters", tag: "model-direct", summary: "My characters", ok: { status: 200, schema: anyObject } },
  { method: "get", path: "/generation/status/{id}", tag: "generations", summary: "Status of any generation in the contract's vocabulary", ok: { status: 200, schema: contractStatusSchema } },
  { method: "get", path: "/generation/gallery", tag: "generations", summary: "Everyone's public videos, newest first, in pages", query: galleryQuery, ok: { status: 200, schema: gallerySchema } },
  { method: "post", path: "/generation/webhook", tag: "webhooks", public: true, summary: "Provider callbacks (kie, Novita): ?token= or kie's HMAC signature", ok: { status: 200, schema: anyObject } },
  { method: "post", path: "/handle-novita-webhook", tag: "webhooks", public: true, summary: "Novita task events: ?token=", ok: { status: 200, schema: anyObject } },
  { method: "post", path: "/video/generate", tag: "movie", summary: "Make a movie from a spec or a template", body: movieBody, ok: { status: 201, schema: anyObject } },
  { method: "post", path: "/video/quote", tag: "movie", summary: "The price of a movie (charges nothing)", body: movieBody, ok: { status: 200, schema: movieQuoteAnswer } },
  { method: "post", path: "/video/segment", tag: "movie", summary: "Make segments alone (no narration, no merge)", body: segmentRequest, ok: { status: 201, schema: anyObject } },
  { method: "post", path: "/video/batch", tag: "movie", summary: "Several movies at once, reserved together", body: batchRequest, ok: { status: 201, schema: anyObject } },
  { method: "get", path: "/video/batch/{id}", tag: "movie", summary: "Follow a whole batch", ok: { status: 200, schema: anyObject } },
  { method: "post", path: "/video/specify", tag: "movie", summary: "Draft a spec from a description (Gemini)", body: specifyRequest, ok: { status: 200, schema: anyObject } },
  { method: "post", path: "/video/from-spec", tag: "movie", summary: "A Spec-Kit spec.md as a MovieFlow spec", body: fromSpecRequest, ok: { status: 200, schema: anyObject } },
  { method: "post", path: "/video/plan", tag: "movie", summary: "Per-scene model, price and time for a goal", body: planRequest, ok: { status: 200, schema: anyObject } },
  { method: "get", path: "/video/templates", tag: "templates", summary: "Built-in templates and mine", ok: { status: 200, schema: anyObject } },
  { method: "get", path: "/video/templates/{slug}", tag: "templates", summary: "One template with its variables", ok: { status: 200, schema: anyObject } },
  { method: "put", path: "/video/templates/{slug}", tag: "templates", summary: "Save one of my templates", body: templateBody, ok: { status: 200, schema: anyObject } },
  { method: "delete", path: "/video/templates/{slug}", tag: "templates", summary: "Delete one of my templates", ok: { status: 200, schema: anyObject } },
  { method: "get", path: "/task/{id}", tag: "movie", summary: "A movie task: segments, logs, metrics, URLs once completed", ok: { status: 200, schema: anyObject } },
  { method: "post", path: "/task/{id}/retry", tag: "movie", summary: "Re-run named scenes (or everything that failed)", body: retryRequest, ok: { status: 200, schema: anyObject } },
  { method: "post", path: "/task/{id}/scenes/{sceneId}/edit", tag: "movie", summary: "Edit a scene's first frame with an instruction", body: editRequest, ok: { status: 201, schema: anyObject } },
  { method: "delete", path: "/task/{id}", tag: "movie", summary: "Cancel a movie task", ok: { status: 200, schema: anyObject } },
  {
    method: "post", path: "/assets/upload", tag: "assets", summary: "Upload an image, audio or video file",
    multipart: z.object({ file: z.string().meta({ format: "binary" }), type: z.enum(["image", "audio", "video"]), metadata: assetMetadata.optional() }),
    ok: { status: 201, schema: anyObject },
  },
  { method: "get", path: "/assets", tag: "assets", summary: "My assets by type and tags, in pages", query: assetListQuery, ok: { status: 200, schema: anyObject } },
  { method: "get", path: "/assets/{id}", tag: "assets", summary: "One asset with a signed URL", ok: { status: 200, schema: anyObject } },
  { method: "post", path: "/assets/{id}/edit", tag: "assets", summary: "A new image asset: this one edited by Gemini", body: editRequest, ok: { status: 201, schema: anyObject } },
  { method: "post", path: "/webhooks", tag: "webhooks", summary: "Register an endpoint (https, public address) for events; the answer shows its secret once", body: webhookRequest, ok: { status: 201, schema: anyObject } },
  { method: "get", path: "/webhooks", tag: "webhooks", summary: "My webhook endpoints", ok: { status: 200, schema: anyObject } },
  { method: "post", path: "/webhooks/{id}/rotate", tag: "webhooks", summary: "A new secret for an endpoint (shown once)", ok: { status: 200, schema: anyObject } },
  { method: "delete", path: "/webhooks/{id}", tag: "webhooks", summary: "Delete an endpoint", ok: { status: 200, schema: anyObject } },
  { method: "get", path: "/webhooks/{id}/deliveries", tag: "webhooks", summary: "An endpoint's deliveries with every attempt", ok: { status: 200, schema: anyObject } },
  { method: "post", path: "/webhooks/deliveries/{deliveryId}/replay", tag: "webhooks", summary: "Send a delivery again (same webhook-id)", ok: { status: 201, schema: anyObject } },
  { method: "delete", path: "/assets/{id}", tag: "assets", summary: "Delete an asset no unfinished task uses", ok: { status: 200, schema: anyObject } },
  { method: "post", path: "/api-keys", tag: "api-keys", summary: "Make an API key for a server (signed in); the answer shows the key once", body: apiKeyRequest, ok: { status: 201, schema: apiKeyCreated } },
  { method: "get", path: "/api-keys", tag: "api-keys", summary: "My API keys (never their secrets)", ok: { status: 200, schema: z.object({ keys: z.array(apiKeySchema) }) } },
  { method: "delete", path: "/api-keys/{id}", tag: "api-keys", summary: "Revoke an API key: it is refused from then on", ok: { status: 200, schema: z.object({ revoked: z.uuid() }) } },
];

/** Functions that only the engine calls (service key): not part of the public API. */
export const INTERNAL_FUNCTIONS = new Set([
  "generate-script", "txt2img", "merge-face", "kling-i2v", "store-output", "poll-task", "kie-video", "scene-image",
  "narration", "jimeng-video", "webhook-deliver",
]);

/** A schema as JSON Schema; the named ones it uses (`.meta({ id })`) go into `named`, once, and
 * are referred to as components (zod's own `#/$defs/...` resolves nowhere in OpenAPI). */
function jsonSchema(schema: z.ZodType, named: Record<string, unknown>) {
  const { $schema: _, $defs, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any", reused: "inline" }) as
    & Record<string, unknown>
    & { $defs?: Record<string, unknown> };
  const asComponent = (node: unknown) => JSON.parse(JSON.stringify(node).replaceAll('"#/$defs/', '"#/components/schemas/'));
  for (const [id, def] of Object.entries($defs ?? {})) named[id] ??= asComponent(def);
  return asComponent(rest);
}

/** A real answer as the example, where tests/openapi-examples.test.ts recorded one. */
const example = (key: string) => (EXAMPLES[key] ? { example: EXAMPLES[key] } : {});

function parameters(op: Operation, named: Record<string, unknown>) {
  const path = [...op.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({ name, in: "path", required: true, schema: { type: "string" } }));
  const shape = op.query ? (jsonSchema(op.query, named) as { properties: Record<string, unknown>; required?: string[] }) : { properties: {} };
  const query = Object.entries(shape.properties).map(([name, schema]) => ({ name, in: "query", required: shape.required?.includes(name) ?? false, schema }));
  return [...path, ...query];
}

const TAGS = {
  cinematic: "An idea (and a selfie) to a short video: script, image, face merge, image-to-video",
  "model-direct": "One prompt to one kie.ai video model, the anime-video contract",
  movie: "MovieFlow: multi-scene movies with narration, merged into one MP4",
  templates: "Movie specs with variables, built in and the user's own",
  assets: "Uploaded images, audio and video for specs",
  generations: "Every run of every pipeline: status, lists, cancel and retry",
  credits: "The balance and the ledger",
  webhooks: "Provider callbacks in, signed event deliveries out",
  "api-keys": "Keys for servers: made once, listed, revoked",
};

/** The document; `server` is where the functions are served (/functions/v1 of the project). */
export function openApiDocument(server = "/functions/v1") {
  const errorStatuses = [...new Set(Object.values(ERROR_STATUS))].sort();
  const paths: Record<string, Record<string, unknown>> = {};
  const named: Record<string, unknown> = {};
  for (const op of OPERATIONS) {
    paths[op.path] ??= {};
    paths[op.path][op.method] = {
      tags: [op.tag],
      summary: op.summary,
      operationId: `${op.method}${op.path.replace(/\{(\w+)\}/g, "By-$1").replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ?? "").toUpperCase())}`,
      ...(op.public ? { security: [] } : {}),
      parameters: parameters(op, named),
      ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(op.body, named) } } } } : {}),
      ...(op.multipart ? { requestBody: { required: true, content: { "multipart/form-data": { schema: jsonSchema(op.multipart, named) } } } } : {}),
      responses: {
        [op.ok.status]: {
          description: op.ok.description ?? "OK",
          content: { "application/json": { schema: jsonSchema(op.ok.schema, named), ...example(`${op.method} ${op.path}`) } },
        },
        ...Object.fromEntries(errorStatuses.map((s) => [s, { $ref: "#/components/responses/Error" }])),
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "reelforge",
      version: "1.0.0",
      description: "Ideas (and a selfie) to short vertical videos: cinematic, model-direct (kie.ai) and movie (MovieFlow) pipelines. " +
        "Every failure answers with the error envelope; codes from one catalog. Progress is also broadcast on the private Realtime topic generations:<user id>.",
    },
    servers: [{ url: server }],
    security: [{ bearer: [] }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "The user's Supabase access token (a JWT), or one of the user's API keys (rf_live_..., for servers; not for managing keys)" },
      },
      responses: {
        Error: {
          description: "An error from the catalog (see the code); 429 and 503 may carry Retry-After",
          headers: { "Retry-After": { schema: { type: "integer" }, description: "seconds to wait" } },
          content: { "application/json": { schema: jsonSchema(errorEnvelope, named), ...example("error") } },
        },
      },
      schemas: named,
    },
  };
}

/** The API reference page (Scalar): the document and the viewer's script (a CDN on hosted;
 * the local stack serves its own copy). */
export function referencePage(specUrl: string, scriptUrl: string) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>reelforge API reference</title></head>
<body>
<div id="app"></div>
<script src="${scriptUrl}"></script>
<script>Scalar.createApiReference("#app", { url: ${JSON.stringify(specUrl)} });</script>
</body>
</html>`;
}

/** GET /openapi (the document, for this project's URL) and /openapi/docs (the page); no JWT. */
export function openApiApp() {
  const app = functionApp("openapi");
  app.get("/", (c) => c.json(openApiDocument(config().PUBLIC_FUNCTIONS_URL)));
  app.get("/docs", (c) => c.html(referencePage(`${config().PUBLIC_FUNCTIONS_URL}/openapi`, config().SCALAR_SCRIPT_URL)));
  return app;
}
