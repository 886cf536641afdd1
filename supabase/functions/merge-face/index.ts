import { mergeSelfie } from "../../../packages/shared/src/steps/cinematic.ts";
import { stepFunction } from "../../../packages/shared/src/steps/runner.ts";

Deno.serve(stepFunction("merge-face", { face_merge: mergeSelfie }).fetch);
