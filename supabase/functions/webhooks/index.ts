import { webhooksApp } from "../../../packages/shared/src/api/webhooks.ts";

Deno.serve(webhooksApp().fetch);
