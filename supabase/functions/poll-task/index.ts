import { pollTaskApp } from "../../../packages/shared/src/api/tasks.ts";

Deno.serve(pollTaskApp().fetch);
