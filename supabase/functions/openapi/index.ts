import { openApiApp } from "../../../packages/shared/src/api/openapi.ts";

Deno.serve(openApiApp().fetch);
