import { videoApp } from "../../../packages/shared/src/api/movie.ts";

Deno.serve(videoApp().fetch);
