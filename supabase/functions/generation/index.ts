import { generationApp } from "../../../packages/shared/src/api/generation.ts";

Deno.serve(generationApp().fetch);
