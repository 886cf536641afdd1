import { webhookDeliverApp } from "../../../packages/shared/src/api/webhooks.ts";

Deno.serve(webhookDeliverApp().fetch);
