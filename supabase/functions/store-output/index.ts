import { storeOutput } from "../../../packages/shared/src/steps/cinematic.ts";
import { stepFunction } from "../../../packages/shared/src/steps/runner.ts";

Deno.serve(stepFunction("store-output", { store_output: storeOutput }).fetch);
