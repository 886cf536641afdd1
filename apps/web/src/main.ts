// The reelforge web app: sign in, see credits, make a cinematic, model-direct or movie video
// with the price shown first, follow it live (Realtime, through the SDK), cancel or retry,
// play and download it; my videos and the public gallery in pages. Plain DOM on the SDK.
import { createClient } from "@supabase/supabase-js";
import { type Progress, ReelforgeClient, ReelforgeError } from "../../../packages/client/src/index.ts";
import { MODELS, type ModelId } from "../../../packages/shared/src/models.ts";

type Config = { supabaseUrl: string; anonKey: string };
const config: Config = await (await fetch(new URL("config.json", location.href))).json();
const supabase = createClient(config.supabaseUrl, config.anonKey);
const client = new ReelforgeClient(supabase);

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const input = (id: string) => $<HTMLInputElement>(id);

/** Catalog errors as they read in the API: the code and its message. */
function showError(err: unknown) {
  const box = $("error");
  box.textContent = err instanceof ReelforgeError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
  box.hidden = false;
}

/** Runs an action, showing its failure; the error box clears when one succeeds. */
async function act<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    const done = await work();
    Object.assign($("error"), { hidden: true, textContent: "" });
    return done;
  } catch (err) {
    showError(err);
    return undefined;
  }
}

// -- signing in ----------------------------------------------------------------------------------

async function authed(what: "in" | "up") {
  const credentials = { email: input("email").value, password: input("password").value };
  // A new account is confirmed by the link Auth mails, which brings the user back here signed in.
  const { data, error } = what === "in"
    ? await supabase.auth.signInWithPassword(credentials)
    : await supabase.auth.signUp({ ...credentials, options: { emailRedirectTo: `${location.origin}${location.pathname}` } });
  if (error) throw new Error(error.message);
  if (!data.session) {
    Object.assign($("notice"), { hidden: false, textContent: `Check your mail: we sent a link to ${credentials.email} to confirm your account. Your welcome credits come with it.` });
    return;
  }
  await enter();
}

async function enter() {
  const { data } = await supabase.auth.getSession();
  if (!data.session) return;
  $("auth").hidden = true;
  $("app").hidden = false;
  $("account").hidden = false;
  $("who").textContent = data.session.user.email ?? "";
  await Promise.all([refreshBalance(), loadTemplates(), quoteCinematic()]);
}

async function refreshBalance() {
  const credits = await client.credits.get({ limit: 1 });
  $("balance").textContent = String(credits.balance);
}

$("auth-form").addEventListener("submit", (e) => {
  e.preventDefault();
  act(() => authed("in"));
});
$("sign-up").addEventListener("click", () => act(() => authed("up")));
$("sign-out").addEventListener("click", async () => {
  await supabase.auth.signOut();
  location.reload();
});

// -- tabs ------------------------------------------------------------------------------------------

const tabs = [...document.querySelectorAll<HTMLButtonElement>("[role=tab]")];
for (const tab of tabs) {
  tab.addEventListener("click", () => {
    for (const t of tabs) {
      t.setAttribute("aria-selected", String(t === tab));
      $(t.getAttribute("aria-controls")!).hidden = t !== tab;
    }
    if (tab.id === "tab-mine") act(() => loadMine(true));
    if (tab.id === "tab-gallery") act(() => loadGallery(true));
  });
}

// -- following a run -------------------------------------------------------------------------------

type Run = { id: string; kind: "generation" | "movie" };
let current: Run | null = null;
let stopFollowing: (() => void) | null = null;

function follow(run: Run) {
  stopFollowing?.();
  act(refreshBalance);
  current = run;
  $("run").hidden = false;
  $("result").hidden = $("download").hidden = $("retry").hidden = true;
  $("cancel").hidden = false;
  $("run-segments").replaceChildren();
  render({ id: run.id, status: "queued", progress: 0, overall: 0, phase: null, source: "poll" });
  stopFollowing = client.onProgress(run.id, (p) => act(() => render(p)));
}

/** Seconds left, as people say it: "40 s", "3 min". */
const timeLeft = (seconds: number) => (seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`);

async function render(p: Progress) {
  const phase = p.phaseLabel ?? p.phase;
  const left = p.etaSeconds ? ` · about ${timeLeft(p.etaSeconds)} left` : "";
  $("run-status").textContent = `${p.status}${phase ? ` · ${phase}` : ""} · ${p.progress}%${left}`;
  $<HTMLProgressElement>("run-progress").value = p.progress;
  $("run").dataset.status = p.status;
  const ended = ["completed", "failed", "canceled"].includes(p.status);
  $("run-segments").replaceChildren(...Object.entries(p.segments ?? {}).map(([scene, percent]) => {
    const li = document.createElement("li");
    li.dataset.scene = scene;
    const bar = Object.assign(document.createElement("progress"), { max: 100, value: percent });
    bar.setAttribute("aria-label", `Scene ${scene}`);
    li.append(Object.assign(document.createElement("span"), { textContent: scene }), bar);
    // A scene can be made again once the movie ended (completed: a scene its owner rejects).
    if (ended && p.status !== "canceled") {
      const retry = Object.assign(document.createElement("button"), { type: "button", textContent: "Redo" });
      retry.setAttribute("aria-label", `Redo scene ${scene}`);
      retry.addEventListener("click", () => act(() => retryRun([scene])));
      li.append(retry);
    }
    return li;
  }));
  if (!ended) return;
  $("cancel").hidden = true;
  $("retry").hidden = p.status !== "failed";
  await refreshBalance();
  if (p.status === "completed") await showResult();
}

async function showResult() {
  const url = current!.kind === "movie" ? (await client.movies.get(current!.id)).videoUrl : (await client.generations.get(current!.id)).video_url;
  if (!url) return;
  const video = $<HTMLVideoElement>("result");
  // Told twice (a broadcast, then a read): the same URL must not reload the playing video.
  if (video.src !== url) video.src = url;
  video.hidden = false;
  Object.assign($<HTMLAnchorElement>("download"), { href: url, hidden: false });
}

async function retryRun(segmentIds: string[] = []) {
  if (!current) return;
  if (current.kind === "movie") await client.movies.retry(current.id, segmentIds);
  else await client.generations.retry(current.id);
  follow(current);
}

$("cancel").addEventListener("click", () => act(async () => {
  if (!current) return;
  if (current.kind === "movie") await client.movies.cancel(current.id);
  else await client.generations.cancel(current.id);
}));
$("retry").addEventListener("click", () => act(() => retryRun()));

// -- cinematic -------------------------------------------------------------------------------------

async function quoteCinematic() {
  const q = await client.generations.quote({ duration: Number(input("duration").value) as 5 | 10, with_selfie: !!input("selfie").files?.length });
  $("cinematic-quote").textContent = `This video costs ${q.estimated_credits} MC`;
}

for (const id of ["duration", "selfie"]) $(id).addEventListener("change", () => act(quoteCinematic));

$("cinematic-form").addEventListener("submit", (e) => {
  e.preventDefault();
  act(async () => {
    const selfie = input("selfie").files?.[0];
    let selfiePath: string | undefined;
    if (selfie) {
      const { data } = await supabase.auth.getUser();
      selfiePath = `${data.user!.id}/${crypto.randomUUID()}-${selfie.name.replace(/[^\w.-]/g, "_")}`;
      const { error } = await supabase.storage.from("selfies").upload(selfiePath, selfie, { contentType: selfie.type });
      if (error) throw new Error(`The selfie could not be uploaded: ${error.message}`);
    }
    const g = await client.generations.create({
      idea: $<HTMLTextAreaElement>("idea").value, duration: Number(input("duration").value) as 5 | 10, ...(selfiePath ? { selfie_path: selfiePath } : {}),
    });
    follow({ id: g.id, kind: "generation" });
  });
});

// -- model-direct: only each model's own options ---------------------------------------------------

const modelSelect = $<HTMLSelectElement>("model-id");
modelSelect.append(...Object.entries(MODELS).map(([id, m]) => new Option(m.name, id)));

function modelOptions() {
  const m = MODELS[modelSelect.value as ModelId] as { aspectRatios?: string[]; durations: number[]; resolutions?: string[]; modes?: string[]; qualities?: string[] };
  const choices: [string, string, (string | number)[] | undefined][] = [
    ["aspect_ratio", "Shape", m.aspectRatios], ["duration_seconds", "Length (s)", m.durations], ["resolution", "Resolution", m.resolutions],
    ["mode", "Mode", m.modes], ["quality", "Quality", m.qualities],
  ];
  $("model-options").replaceChildren(...choices.filter(([, , values]) => values?.length).map(([field, label, values]) => {
    const select = document.createElement("select");
    select.name = field;
    select.append(...values!.map((v) => new Option(String(v), String(v))));
    if (field === "aspect_ratio") select.value = values!.includes("9:16") ? "9:16" : "portrait";
    select.addEventListener("change", () => act(quoteModel));
    const wrap = document.createElement("label");
    wrap.append(label, select);
    return wrap;
  }));
}

function modelRequest() {
  const request: Record<string, unknown> = { model_id: modelSelect.value, prompt: $<HTMLTextAreaElement>("model-prompt").value || undefined };
  for (const select of $("model-options").querySelectorAll("select")) {
    request[select.name] = select.name === "duration_seconds" ? Number(select.value) : select.value;
  }
  return request as { prompt: string; model_id: string };
}

async function quoteModel() {
  const q = await client.modelDirect.quote(modelRequest());
  $("model-quote").textContent = `This video costs ${q.estimated_credits} MC`;
}

modelSelect.addEventListener("change", () => {
  modelOptions();
  act(quoteModel);
});
$("tab-model").addEventListener("click", () => act(quoteModel));
modelOptions();

$("optimize").addEventListener("click", () => act(async () => {
  const prompt = $<HTMLTextAreaElement>("model-prompt");
  const answer = await client.request<{ data: { optimized_prompt: string } }>("POST", "anime-video/optimize-prompt", { prompt: prompt.value });
  prompt.value = answer.data.optimized_prompt;
}));

$("model-form").addEventListener("submit", (e) => {
  e.preventDefault();
  act(async () => {
    const created = await client.modelDirect.create(modelRequest());
    follow({ id: created.generation_uuid, kind: "generation" });
  });
});

// -- movies: a template with its variables, or my own scenes ---------------------------------------

type TemplateInfo = { slug: string; name: string; variables: Record<string, { type: "text" | "list"; description?: string; default?: unknown }> };
let templates: TemplateInfo[] = [];

async function loadTemplates() {
  templates = (await client.request<{ templates: TemplateInfo[] }>("GET", "video/templates")).templates;
  $<HTMLSelectElement>("template").append(...templates.map((t) => new Option(t.name, t.slug)));
}

function addScene(prompt = "", narration = "") {
  const li = document.createElement("li");
  li.innerHTML = `<label>Prompt <textarea name="prompt" rows="2" required></textarea></label>
    <label>Narration <input name="narration"></label>
    <label>Length <select name="duration"><option value="5">5 s</option><option value="10">10 s</option></select></label>`;
  li.querySelector("textarea")!.value = prompt;
  li.querySelector("input")!.value = narration;
  $("scenes").append(li);
}

$("add-scene").addEventListener("click", () => addScene());
$("template").addEventListener("change", () => {
  const t = templates.find((x) => x.slug === $<HTMLSelectElement>("template").value);
  // Hidden and disabled: its required fields do not block a template's form.
  Object.assign($<HTMLFieldSetElement>("scenes-editor"), { hidden: !!t, disabled: !!t });
  $("variables").replaceChildren(...Object.entries(t?.variables ?? {}).map(([name, v]) => {
    const label = document.createElement("label");
    const field = Object.assign(document.createElement("input"), { name, value: Array.isArray(v.default) ? v.default.join(", ") : String(v.default ?? "") });
    field.dataset.type = v.type;
    label.append(`${name}${v.type === "list" ? " (comma-separated)" : ""}`, field);
    return label;
  }));
  act(quoteMovie);
});
addScene();

function movieSpec(): Record<string, unknown> {
  const slug = $<HTMLSelectElement>("template").value;
  if (slug) {
    const variables = Object.fromEntries([...$("variables").querySelectorAll("input")].map((i) =>
      [i.name, i.dataset.type === "list" ? i.value.split(",").map((s) => s.trim()).filter(Boolean) : i.value]));
    return { template: slug, variables };
  }
  const scenes = [...$("scenes").children].map((li, i) => {
    const narration = (li.querySelector("[name=narration]") as HTMLInputElement).value.trim();
    return {
      id: `scene${i + 1}`, prompt: (li.querySelector("[name=prompt]") as HTMLTextAreaElement).value,
      duration: Number((li.querySelector("[name=duration]") as HTMLSelectElement).value),
      ...(narration ? { audio: { text: narration, voice: "narrator" } } : {}),
    };
  });
  return { projectName: "my-movie", scenes };
}

async function quoteMovie() {
  const q = await client.movies.quote(movieSpec());
  $("movie-quote").textContent = `This movie costs ${q.estimatedCredits} MC`;
}

/** Runs `work` once typing pauses for 300 ms. */
function debounced(work: () => Promise<void>) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(() => act(work), 300);
  };
}

$("movie-form").addEventListener("input", debounced(quoteMovie));
$("movie-form").addEventListener("submit", (e) => {
  e.preventDefault();
  act(async () => {
    const task = await client.movies.generate(movieSpec());
    follow({ id: task.id, kind: "movie" });
  });
});

// -- my videos and the gallery, a page at a time ---------------------------------------------------

let mineCursor: string | null = null;
let galleryCursor: string | null = null;

function card(title: string, status: string, url: string | null, poster?: string | null) {
  const li = document.createElement("li");
  li.dataset.status = status;
  li.append(Object.assign(document.createElement("p"), { textContent: `${title} · ${status}` }));
  if (url) li.append(Object.assign(document.createElement("video"), { src: url, controls: true, preload: "metadata", ...(poster ? { poster } : {}) }));
  return li;
}

async function loadMine(fresh: boolean) {
  if (fresh) {
    mineCursor = null;
    $("mine-list").replaceChildren();
  }
  const filter = $<HTMLSelectElement>("mine-filter").value;
  const page = await client.generations.list({ limit: 6, cursor: mineCursor ?? undefined, ...(filter ? { status: filter.split(",") as never } : {}) });
  $("mine-list").append(...page.items.map((g) => {
    const li = card(`${g.pipeline} · ${String((g.inputs as { idea?: string; prompt?: string }).idea ?? (g.inputs as { prompt?: string }).prompt ?? g.id).slice(0, 60)}`, g.status, g.video_url);
    li.dataset.id = g.id;
    return li;
  }));
  mineCursor = page.nextCursor;
  $("mine-more").hidden = !mineCursor;
}

async function loadGallery(fresh: boolean) {
  if (fresh) {
    galleryCursor = null;
    $("gallery-list").replaceChildren();
  }
  const page = await client.gallery.list({ limit: 6, cursor: galleryCursor ?? undefined });
  $("gallery-list").append(...page.items.map((g) => card(g.pipeline, "completed", g.video_url, g.poster_url)));
  galleryCursor = page.nextCursor;
  $("gallery-more").hidden = !galleryCursor;
}

$("mine-filter").addEventListener("change", () => act(() => loadMine(true)));
$("mine-more").addEventListener("click", () => act(() => loadMine(false)));
$("gallery-more").addEventListener("click", () => act(() => loadGallery(false)));

await act(enter);
