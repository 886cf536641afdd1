import { makeBaseImage } from "../../../packages/shared/src/steps/cinematic.ts";
import { stepFunction } from "../../../packages/shared/src/steps/runner.ts";

Deno.serve(stepFunction("txt2img", { base_image: makeBaseImage }).fetch);
