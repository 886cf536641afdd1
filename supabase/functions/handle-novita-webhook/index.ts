import { novitaWebhookApp } from "../../../packages/shared/src/api/tasks.ts";

Deno.serve(novitaWebhookApp().fetch);
