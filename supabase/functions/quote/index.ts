import { quoteApp } from "../../../packages/shared/src/api/quote.ts";

Deno.serve(quoteApp().fetch);
