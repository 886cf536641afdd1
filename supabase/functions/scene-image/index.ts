import { makeSceneImage } from "../../../packages/shared/src/steps/movie.ts";
import { stepFunction } from "../../../packages/shared/src/steps/runner.ts";

Deno.serve(stepFunction("scene-image", { scene_image: makeSceneImage }).fetch);
