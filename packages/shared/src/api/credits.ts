// Credits: the caller's balance, what their unfinished runs hold, and the ledger in pages.
import { z } from "zod";
import { asUser } from "../db.ts";
import { cursorId, functionApp, nextCursor, pageQuery, requireUser, validate } from "../http.ts";

const LEDGER_KINDS = ["grant", "reserve", "capture", "refund", "release"] as const;
export const ledgerQuery = z.strictObject({ ...pageQuery, kind: z.enum(LEDGER_KINDS).optional() });
const ledgerId = z.string().regex(/^[1-9][0-9]{0,18}$/);

export function creditsApp() {
  const app = functionApp("credits");
  app.use("*", requireUser);

  // {balance, reserved, ledger: newest first, next_cursor}. `reserved` is held by runs that
  // have not ended; the balance already excludes it.
  app.get("/", async (c) => {
    const q = validate(ledgerQuery, c.req.query());
    const before = cursorId(q.cursor, ledgerId);
    const [[account], ledger] = await asUser(c.get("claims"), (sql) => Promise.all([
      sql`select coalesce((select balance from public.credit_accounts), 0)::bigint as balance,
                 coalesce(sum(case l.kind when 'reserve' then l.amount when 'capture' then -l.amount
                                          when 'release' then -l.amount else 0 end), 0)::bigint as reserved
          from public.credit_ledger l
          where l.generation_id in (select id from public.generations where status in ('queued', 'running'))`,
      sql`select id::text, kind, amount::integer, generation_id, step, task_index, reason, created_at
          from public.credit_ledger
          where (${q.kind ?? null}::public.ledger_kind is null or kind = ${q.kind ?? null}::public.ledger_kind)
            and (${before}::bigint is null or id < ${before}::bigint)
          order by id desc limit ${q.limit + 1}`,
    ]));
    return c.json({
      balance: Number(account.balance),
      reserved: Number(account.reserved),
      ledger: ledger.slice(0, q.limit),
      next_cursor: nextCursor(ledger, q.limit),
    });
  });
  return app;
}
