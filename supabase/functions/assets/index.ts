import { assetsApp } from "../../../packages/shared/src/api/assets.ts";

Deno.serve(assetsApp().fetch);
