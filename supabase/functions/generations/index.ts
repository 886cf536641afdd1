import { generationsApp } from "../../../packages/shared/src/api/generations.ts";

Deno.serve(generationsApp().fetch);
