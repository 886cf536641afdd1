// Stand-in for the local stack's mail catcher (Mailpit, on [local_smtp] port): Auth's mails
// are kept here instead of sent, and read through the part of Mailpit's API that tools use:
// GET /api/v1/messages, GET /api/v1/search?query=to:<address>, GET /api/v1/message/<ID>,
// DELETE /api/v1/messages. The newest 1000 are kept.
type Address = { Name: string; Address: string };
type Message = { ID: string; MessageID: string; From: Address; To: Address[]; Subject: string; Created: string; Text: string; HTML: string };

const KEPT = 1000;
const messages: Message[] = [];

/** Catches a mail Auth would send. */
export function sendMail(to: string, subject: string, text: string, html: string) {
  const id = crypto.randomUUID();
  messages.unshift({
    ID: id, MessageID: `${id}@reelforge.local`, From: { Name: "Supabase Auth", Address: "noreply@mail.app.supabase.io" },
    To: [{ Name: "", Address: to }], Subject: subject, Created: new Date().toISOString(), Text: text, HTML: html,
  });
  messages.length = Math.min(messages.length, KEPT);
}

const summary = ({ Text, HTML: _, ...m }: Message) => ({
  ...m, Read: false, Cc: [], Bcc: [], ReplyTo: [], Tags: [], Size: Text.length, Attachments: 0, Snippet: Text.slice(0, 250),
});

function list(found: Message[], url: URL) {
  const start = Math.max(0, Number(url.searchParams.get("start")) || 0);
  const limit = Math.max(1, Number(url.searchParams.get("limit")) || 50);
  const page = found.slice(start, start + limit);
  return Response.json({ total: messages.length, unread: found.length, count: page.length, messages_count: found.length, start, tags: [], messages: page.map(summary) });
}

export function handleMail(req: Request): Response {
  const url = new URL(req.url);
  if (req.method === "GET" && url.pathname === "/api/v1/messages") return list(messages, url);
  if (req.method === "DELETE" && url.pathname === "/api/v1/messages") {
    messages.length = 0;
    return new Response("ok");
  }
  if (req.method === "GET" && url.pathname === "/api/v1/search") {
    // Mailpit's search language; the catcher knows its `to:` filter (quoted or not).
    const to = /(?:^|\s)to:"?([^"\s]+)"?/i.exec(url.searchParams.get("query") ?? "")?.[1]?.toLowerCase();
    return list(to ? messages.filter((m) => m.To.some((a) => a.Address.toLowerCase() === to)) : messages, url);
  }
  const one = /^\/api\/v1\/message\/([\w-]+)$/.exec(url.pathname);
  if (req.method === "GET" && one) {
    const m = messages.find((x) => x.ID === one[1]);
    return m ? Response.json({ ...summary(m), Text: m.Text, HTML: m.HTML, ReturnPath: m.From.Address, Date: m.Created, Inline: [], Attachments: [] }) : new Response("message not found", { status: 404 });
  }
  return new Response("not found", { status: 404 });
}
