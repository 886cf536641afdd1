import { submitKieVideo } from "../../../packages/shared/src/steps/model-direct.ts";
import { stepFunction } from "../../../packages/shared/src/steps/runner.ts";

Deno.serve(stepFunction("kie-video", { video: submitKieVideo }).fetch);
