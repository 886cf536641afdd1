import { submitSegment } from "../../../packages/shared/src/steps/movie.ts";
import { stepFunction } from "../../../packages/shared/src/steps/runner.ts";

Deno.serve(stepFunction("jimeng-video", { segment: submitSegment }).fetch);
