// Error logging that never prints request data: database errors carry their query
// parameters (tokens among them), so only the name, code and message are written.
export function logError(context: string, err: unknown) {
  const e = err as { name?: string; code?: string; message?: string };
  console.error(`${context}: ${e?.name ?? "Error"}${e?.code ? ` [${e.code}]` : ""}: ${e?.message ?? String(err)}`);
}
