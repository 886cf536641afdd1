// Starts the provider simulators on their local ports. Each also answers
// GET /_sim/health, GET /_sim/stats, GET /_sim/media (what each media step made, for the
// demo), POST /_sim/knobs (a partial Knobs object) and POST /_sim/reset, and serves its
// result files at /files/<id> until they expire.
import { SIM_PORTS } from "../stack/env.ts";
import { knobs, resetSimulators, serveFile, setKnobs, stats, submissionsByKey } from "./common.ts";
import { handleGemini } from "./gemini.ts";
import { handleKie } from "./kie.ts";
import { handleNovita } from "./novita.ts";
import { mediaReports } from "./media.ts";

type Handler = (req: Request, url: URL) => Promise<Response>;

function serve(port: number, handler: Handler) {
  Deno.serve({ port, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/_sim/health") return Response.json({ ok: true });
    if (url.pathname === "/_sim/stats") {
      return Response.json({ stats, knobs, duplicate_submissions: [...submissionsByKey.values()].filter((n) => n > 1).length });
    }
    if (url.pathname === "/_sim/media") return Response.json({ media: mediaReports });
    if (url.pathname === "/_sim/knobs" && req.method === "POST") {
      setKnobs(await req.json());
      return Response.json(knobs);
    }
    if (url.pathname === "/_sim/reset" && req.method === "POST") {
      resetSimulators();
      return Response.json(knobs);
    }
    if (url.pathname.startsWith("/files/")) return serveFile(url.pathname.slice(7));
    return await handler(req, url);
  });
}

serve(SIM_PORTS.gemini, handleGemini);
serve(SIM_PORTS.novita, handleNovita);
serve(SIM_PORTS.kie, handleKie);
