import { writeScript } from "../../../packages/shared/src/steps/cinematic.ts";
import { stepFunction } from "../../../packages/shared/src/steps/runner.ts";

Deno.serve(stepFunction("generate-script", { script: writeScript }).fetch);
