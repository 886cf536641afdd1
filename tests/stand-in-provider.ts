// A tiny stand-in provider for the clients' unit tests (payloads copied from the contracts):
// per path, a queue of answers (the last one repeats); every request is recorded. Not the
// simulators: these tests pin the clients to the contracts' own examples.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { ProviderError } from "../packages/shared/src/providers/http";

export type Answer = { status: number; body: unknown; headers?: Record<string, string>; hang?: "timeout" | "reset" };
type Recorded = { path: string; query: string; headers: IncomingMessage["headers"]; body: any };

/** Serves this test file (its hooks start, stop and clear it); `base()` is its URL. */
export function standInProvider() {
  let base = "";
  const answers = new Map<string, Answer[]>();
  const requests: Recorded[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const [path, query = ""] = req.url!.split("?");
    requests.push({ path, query, headers: req.headers, body: raw ? JSON.parse(raw) : null });
    const queue = answers.get(path) ?? [];
    const a = queue.length > 1 ? queue.shift()! : queue[0] ?? { status: 404, body: {} };
    if (a.hang === "reset") return req.socket.destroy();
    if (a.hang === "timeout") return; // never answers
    res.writeHead(a.status, { "content-type": "application/json", ...a.headers }).end(typeof a.body === "string" ? a.body : JSON.stringify(a.body));
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => {
    answers.clear();
    requests.length = 0;
  });
  return { base: () => base, requests, answer: (path: string, ...a: Answer[]) => answers.set(path, a) };
}

/** The provider error a call ends with (fails the test if it ends otherwise). */
export async function failure(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ProviderError) return err;
    throw err;
  }
  throw new Error("expected a provider error");
}
