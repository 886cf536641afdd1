// Quote: the price a create would reserve, from the same SQL pricing function. Charges nothing.
import { z } from "zod";
import { asUser } from "../db.ts";
import { functionApp, parseBody, requireUser } from "../http.ts";

export const quoteRequest = z.strictObject({
  duration: z.union([z.literal(5), z.literal(10)]).default(5),
  with_selfie: z.boolean().default(false),
});

export function quoteApp() {
  const app = functionApp("quote");
  app.post("/", requireUser, async (c) => {
    const body = await parseBody(c, quoteRequest);
    const inputs = { duration: body.duration, ...(body.with_selfie ? { selfie_path: "selfie" } : {}) };
    const [q] = await asUser(c.get("claims"), (sql) => sql`
      select credits, explain from public.price_quote('cinematic', ${sql.json(inputs)})`);
    return c.json({ estimated_credits: q.credits, explain: q.explain });
  });
  return app;
}
