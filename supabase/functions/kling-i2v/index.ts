import { submitVideo } from "../../../packages/shared/src/steps/cinematic.ts";
import { stepFunction } from "../../../packages/shared/src/steps/runner.ts";

Deno.serve(stepFunction("kling-i2v", { video: submitVideo }).fetch);
