// Provider calls made while the user waits (a spec draft, an image edit, a prompt
// optimization) are paid like tasks: the price_list price is reserved before the call,
// captured once it succeeded and refunded if anything failed (app.start_paid_call). A free
// one needs a positive balance and counts against a daily quota.
import { asUser } from "./db.ts";
import type { JwtClaims } from "./jwt.ts";

export type PaidCallSku =
  | { pipeline: "movie"; sku: "spec_draft" | "image_edit" }
  | { pipeline: "model_direct"; sku: "prompt_optimization" };

/** The result of `work`, paid for by the caller: nothing is charged when it throws. */
export async function paidCall<T>(claims: JwtClaims, item: PaidCallSku, work: () => Promise<T>): Promise<T> {
  const [{ id }] = await asUser(claims, (sql) => sql<{ id: string }[]>`
    select app.start_paid_call(${item.pipeline}, ${item.sku}) as id`);
  const settle = (succeeded: boolean) => asUser(claims, (sql) => sql`select from app.settle_paid_call(${id}, ${succeeded})`);
  let result: T;
  try {
    result = await work();
  } catch (err) {
    await settle(false);
    throw err;
  }
  await settle(true);
  return result;
}
