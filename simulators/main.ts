// Starts the provider simulators on their local ports. Each also answers
// GET /_sim/health, GET /_sim/stats, GET /_sim/media (what each media step made, for the
// demo), POST /_sim/knobs (a partial Knobs object), POST /_sim/script (scripted answers, see
// common.ts) and POST /_sim/reset, serves its result files at /files/<id> until they expire,
// and GET /_sim/redirect?to=<url> answers a 302 to any URL.
import { SIM_PORTS } from "../stack/env.ts";
import { knobs, resetSimulators, serveFile, setKnobs, setScript, stats, submissionsByKey } from "./common.ts";
import { handleGemini } from "./gemini.ts";
import { handleKie } from "./kie.ts";
import { handleNovita } from "./novita.ts";
import { handleTts } from "./volcengine-tts.ts";
import { handleVolcengine } from "./volcengine.ts";
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
    if (url.pathname === "/_sim/script" && req.method === "POST") {
      const problem = setScript(await req.json().catch(() => ({})));
      return problem ? Response.json({ error: problem }, { status: 400 }) : Response.json({ ok: true });
    }
    if (url.pathname === "/_sim/reset" && req.method === "POST") {
      resetSimulators();
      return Response.json(knobs);
    }
    if (url.pathname.startsWith("/files/")) return serveFile(url.pathname.slice(7));
    // A hostile file host: redirects wherever it is told.
    if (url.pathname === "/_sim/redirect") {
      return new Response(null, { status: 302, headers: { location: url.searchParams.get("to") ?? "/" } });
    }
    return await handler(req, url);
  });
}

serve(SIM_PORTS.gemini, handleGemini);
serve(SIM_PORTS.novita, handleNovita);
serve(SIM_PORTS.kie, handleKie);
serve(SIM_PORTS.volcengine, handleVolcengine);
serve(SIM_PORTS.tts, handleTts);
