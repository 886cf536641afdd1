import { narrate } from "../../../packages/shared/src/steps/movie.ts";
import { stepFunction } from "../../../packages/shared/src/steps/runner.ts";

Deno.serve(stepFunction("narration", { narration: narrate }).fetch);
