// Stand-in for pg_net's background worker: sends the requests that committed transactions
// queued in net.http_request_queue and records net._http_response, like pg_net does.
// Knob for fault tests: .stack/knobs/net.json {"drop_rate": 0.1} loses that share of requests
// (read at every drain, so a test that writes it first knows it applies).
import postgres from "postgres";
import { logError } from "../packages/shared/src/log.ts";
import { DB_URL, STACK_DIR } from "./env.ts";

type Queued = {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer> | null;
  timeout_milliseconds: number;
};

const BATCH = 200;
let dropRate = 0;
let draining = false;
let again = false;
const inFlight = new Set<Promise<void>>();

const sql = postgres(DB_URL, { max: 4, onnotice: () => {} });

async function readKnobs() {
  try {
    const knobs = JSON.parse(await Deno.readTextFile(`${STACK_DIR}/knobs/net.json`));
    dropRate = Number(knobs.drop_rate) || 0;
  } catch {
    dropRate = 0;
  }
}

async function send(req: Queued) {
  if (Math.random() < dropRate) return;
  const started = Date.now();
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.timeout(req.timeout_milliseconds),
    });
    const content = await res.text();
    await sql`
      insert into net._http_response (id, status_code, content_type, headers, content, timed_out)
      values (${req.id}, ${res.status}, ${res.headers.get("content-type")},
              ${sql.json(Object.fromEntries(res.headers))}, ${content}, false)`;
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === "TimeoutError";
    await sql`
      insert into net._http_response (id, timed_out, error_msg)
      values (${req.id}, ${timedOut},
              ${timedOut ? `Timeout of ${req.timeout_milliseconds} ms reached (${Date.now() - started} ms)` : String(err)})`
      .catch(() => {});
  }
}

async function drain() {
  if (draining) {
    again = true;
    return;
  }
  draining = true;
  try {
    await readKnobs();
    do {
      again = false;
      const batch = await sql<Queued[]>`
        delete from net.http_request_queue
        where id in (select id from net.http_request_queue order by id limit ${BATCH}
                     for update skip locked)
        returning id, method, url, headers, body, timeout_milliseconds`;
      for (const req of batch) {
        const p = send(req).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      if (batch.length === BATCH) again = true;
    } while (again);
  } catch (err) {
    logError("net worker", err);
  } finally {
    draining = false;
  }
}

await readKnobs();
await sql.listen("net_http_request", () => drain(), () => drain());
// Notifications are a speed-up; this tick also catches requests queued while disconnected.
setInterval(drain, 500);
