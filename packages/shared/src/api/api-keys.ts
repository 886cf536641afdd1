// API keys for servers: `POST api-keys` makes one and shows its secret once, `GET api-keys`
// lists them (never the secret), `DELETE api-keys/{id}` revokes one. Only a signed-in user
// manages keys: a leaked key cannot make more or hide itself.
import { z } from "zod";
import { asUser } from "../db.ts";
import { newApiKey } from "../api-keys.ts";
import { functionApp, parseBody, parseId, requireSession } from "../http.ts";

export const apiKeyRequest = z.strictObject({ name: z.string().trim().min(1).max(100) });

type KeyRow = { id: string; name: string; prefix: string; created_at: string; last_used_at: string | null };
const keyView = (k: KeyRow) => ({ id: k.id, name: k.name, prefix: k.prefix, createdAt: k.created_at, lastUsedAt: k.last_used_at });

export function apiKeysApp() {
  const app = functionApp("api-keys");
  app.use("*", requireSession);

  app.post("/", async (c) => {
    const { name } = await parseBody(c, apiKeyRequest);
    const key = await newApiKey();
    const [row] = await asUser(c.get("claims"), (sql) => sql<KeyRow[]>`
      select * from app.create_api_key(${name}, ${key.prefix}, ${key.secretHash})`);
    return c.json({ ...keyView(row), key: key.secret }, 201);
  });

  app.get("/", async (c) => {
    const rows = await asUser(c.get("claims"), (sql) => sql<KeyRow[]>`select * from app.list_api_keys()`);
    return c.json({ keys: rows.map(keyView) });
  });

  app.delete("/:id", async (c) => {
    const id = parseId(c.req.param("id"), "API key");
    await asUser(c.get("claims"), (sql) => sql`select from app.revoke_api_key(${id})`);
    return c.json({ revoked: id });
  });
  return app;
}
