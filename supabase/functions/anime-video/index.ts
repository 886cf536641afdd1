import { animeVideoApp } from "../../../packages/shared/src/api/anime-video.ts";

Deno.serve(animeVideoApp().fetch);
