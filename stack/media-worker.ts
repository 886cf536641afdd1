// The media worker on the local stack: the functions' environment (Storage, database), then
// the worker itself (worker/media.ts), as a container would run it.
import { functionsEnv } from "./env.ts";

for (const [k, v] of Object.entries(await functionsEnv())) Deno.env.set(k, v);
await import("../worker/media.ts");
