// Builds the web app into apps/web/dist: app.js (the app, the SDK and supabase-js in one ES
// module), index.html and app.css. The files are static: serve them with a config.json
// {"supabaseUrl","anonKey"} beside them (the local stack serves its own at /app/).
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";

const here = new URL(".", import.meta.url).pathname;
mkdirSync(`${here}dist`, { recursive: true });
await build({
  entryPoints: [`${here}src/main.ts`],
  outfile: `${here}dist/app.js`,
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  logLevel: "warning",
});
for (const file of ["index.html", "app.css"]) copyFileSync(`${here}${file}`, `${here}dist/${file}`);
