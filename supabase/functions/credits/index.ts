import { creditsApp } from "../../../packages/shared/src/api/credits.ts";

Deno.serve(creditsApp().fetch);
