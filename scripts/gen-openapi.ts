// Writes docs/openapi.json: the OpenAPI document made from the request schemas (npm run gen:openapi).
import { openApiDocument } from "../packages/shared/src/api/openapi.ts";

await Deno.writeTextFile(new URL("../docs/openapi.json", import.meta.url), JSON.stringify(openApiDocument(), null, 2) + "\n");
