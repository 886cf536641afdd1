import { taskApp } from "../../../packages/shared/src/api/movie.ts";

Deno.serve(taskApp().fetch);
