import { apiKeysApp } from "../../../packages/shared/src/api/api-keys.ts";

Deno.serve(apiKeysApp().fetch);
