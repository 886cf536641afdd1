// The web app (apps/web) in Debian's Chromium, headless, driven by playwright-core: the three
// creation flows on the simulators with progress seen before the end, the video plays for its
// length, cancel and retry, a second user sees none of the first's videos, bad input shows
// the catalog's message. Screenshots go to out/screenshots.
import { mkdirSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { env, makeSelfie, newUser, resetSims, ROOT, simKnobs, sql, supabaseClient, type TestUser } from "./helpers";

const SHOTS = `${ROOT}out/screenshots`;
let browser: Browser;
const started = Date.now();

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

afterAll(async () => {
  await browser?.close();
  console.log(`browser suite: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

beforeEach(async () => {
  await resetSims();
});

/** A phone-sized page signed in as `user`, on the app's first tab. */
async function signedIn(user: TestUser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  page.on("pageerror", (err) => console.error("page error:", err.message));
  await page.goto(`${env.API_URL}/app/`);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill("correct-horse");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("tab", { name: "Cinematic" }).waitFor();
  return page;
}

/** Waits for the run panel to reach `status`. */
const runStatus = (page: Page, status: string, timeout = 90_000) =>
  page.waitForSelector(`#run[data-status="${status}"]`, { timeout });

/** The result video's duration once its metadata loaded (it plays in the page). */
async function playedSeconds(page: Page) {
  return await page.$eval("#result", (v: HTMLVideoElement) => new Promise<number>((resolve, reject) => {
    const done = () => v.play().then(() => resolve(v.duration), reject);
    if (v.readyState >= 1) done();
    else v.addEventListener("loadedmetadata", done, { once: true });
    v.addEventListener("error", () => reject(new Error("the video did not load")), { once: true });
  }));
}

describe("the web app", () => {
  it("signs up: it says to check the mail, and the mailed link brings the user back signed in with the welcome grant", async () => {
    const email = `web-${crypto.randomUUID()}@test.local`;
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${env.API_URL}/app/`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct-horse");
    await page.getByRole("button", { name: "Create an account" }).click();
    await expect.poll(() => page.textContent("#notice")).toMatch(/^Check your mail: we sent a link to /);
    expect(await page.isVisible("#app")).toBe(false);
    await page.screenshot({ path: `${SHOTS}/sign-up-check-mail.png`, fullPage: true });
    const found = await (await fetch(`${env.MAILPIT_URL}/api/v1/search?query=${encodeURIComponent(`to:"${email}"`)}`)).json();
    const message = await (await fetch(`${env.MAILPIT_URL}/api/v1/message/${found.messages[0].ID}`)).json();
    await sql`update engine.settings set welcome_credits = 500`;
    try {
      await page.goto(/https?:\/\/\S+\/auth\/v1\/verify\?\S+/.exec(message.Text)![0]);
      await page.getByRole("tab", { name: "Cinematic" }).waitFor();
    } finally {
      await sql`update engine.settings set welcome_credits = 0`;
    }
    expect(await page.textContent("#who")).toBe(email);
    await expect.poll(() => page.textContent("#balance")).toBe("500");
    await context.close();
  });

  it("makes a cinematic video: quote first, live progress, then it plays for 5 s", async () => {
    await simKnobs({ latency_ms: { kling: 6000 } });
    const user = await newUser(1000);
    const page = await signedIn(user);
    await expect.poll(() => page.textContent("#balance")).toBe("1000");
    await expect.poll(() => page.textContent("#cinematic-quote")).toBe("This video costs 185 MC");
    await page.getByLabel("Your idea").fill("a lighthouse keeper befriends a whale");
    await page.getByRole("button", { name: "Make the video" }).first().click();
    // Progress before the end: the video step at work.
    await runStatus(page, "processing");
    await page.waitForFunction(() => Number((document.getElementById("run-progress") as HTMLProgressElement).value) > 0);
    await page.screenshot({ path: `${SHOTS}/cinematic-progress.png`, fullPage: true });
    await runStatus(page, "completed");
    expect(await playedSeconds(page)).toBeCloseTo(5, 0);
    expect(await page.getAttribute("#download", "href")).toMatch(/video\.mp4/);
    await expect.poll(() => page.textContent("#balance")).toBe("815");
    await page.screenshot({ path: `${SHOTS}/cinematic-done.png`, fullPage: true });
  });

  it("a picked selfie is uploaded through supabase-js (a File) and the video is made with it", async () => {
    const user = await newUser(1000);
    const page = await signedIn(user);
    await page.setInputFiles("#selfie", { name: "me.jpg", mimeType: "image/jpeg", buffer: Buffer.from(makeSelfie()) });
    await page.getByLabel("Your idea").fill("a lighthouse keeper befriends a whale");
    await page.getByRole("button", { name: "Make the video" }).first().click();
    // Either the run starts, or the app says why not (before the fix: "No file in the form").
    await Promise.race([runStatus(page, "processing"), page.waitForSelector("#error:not([hidden])")]);
    expect(await page.isHidden("#error"), (await page.textContent("#error")) ?? "").toBe(true);
    const [g] = await sql`select inputs->>'selfie_path' as selfie from public.generations where user_id = ${user.id}`;
    expect(g.selfie).toMatch(new RegExp(`^${user.id}/.+-me\\.jpg$`));
    const { data } = await supabaseClient(env.SERVICE_ROLE_KEY).storage.from("selfies").download(g.selfie);
    expect(Buffer.from(await data!.arrayBuffer()).equals(Buffer.from(makeSelfie()))).toBe(true);
  });

  it("offers each model only its own options and makes a model-direct video", async () => {
    const user = await newUser(1000);
    const page = await signedIn(user);
    await page.getByRole("tab", { name: "Model" }).click();
    await page.locator("#model-id").selectOption("sora-2");
    const sora = await page.$$eval("#model-options select", (s) => s.map((x) => (x as HTMLSelectElement).name));
    expect(sora).toEqual(["aspect_ratio", "duration_seconds"]);
    await page.locator("#model-id").selectOption("sora-2-pro");
    expect(await page.$$eval("#model-options select", (s) => s.map((x) => (x as HTMLSelectElement).name))).toEqual(["aspect_ratio", "duration_seconds", "quality"]);
    await page.locator("#model-id").selectOption("sora-2");
    await expect.poll(() => page.textContent("#model-quote")).toBe("This video costs 30 MC");
    await page.locator("#model-prompt").fill("cat samurai");
    await page.getByRole("button", { name: "Improve my prompt" }).click();
    await expect.poll(() => page.inputValue("#model-prompt")).not.toBe("cat samurai");
    await page.locator("#model-form").getByRole("button", { name: "Make the video" }).click();
    await runStatus(page, "completed");
    expect(await playedSeconds(page)).toBeCloseTo(10, 0);
    await page.screenshot({ path: `${SHOTS}/model-direct.png`, fullPage: true });
  });

  it("makes a movie from a template with live per-scene progress, and redoes one scene", async () => {
    await simKnobs({ latency_ms: { jimeng: 3000 } });
    const user = await newUser(5000);
    const page = await signedIn(user);
    await page.getByRole("tab", { name: "Movie" }).click();
    await page.getByLabel("Template").selectOption("product-intro");
    await page.getByLabel("product_name").fill("Lantern");
    await page.getByLabel(/features/).fill("glows");
    await expect.poll(() => page.textContent("#movie-quote")).toMatch(/^This movie costs \d+ MC$/);
    await page.getByRole("button", { name: "Make the movie" }).click();
    await page.waitForSelector("#run-segments li, #error:not([hidden])");
    expect(await page.textContent("#error")).toBe("");
    await runStatus(page, "processing");
    await page.screenshot({ path: `${SHOTS}/movie-progress.png`, fullPage: true });
    await runStatus(page, "completed", 120_000);
    const seconds = await playedSeconds(page);
    expect(seconds).toBeGreaterThanOrEqual(10);
    const scene = await page.getAttribute("#run-segments li", "data-scene");
    await page.locator(`#run-segments li[data-scene="${scene}"] button`).click();
    await runStatus(page, "completed", 120_000);
    expect(await playedSeconds(page)).toBeCloseTo(seconds, 0);
    await page.screenshot({ path: `${SHOTS}/movie-done.png`, fullPage: true });
  });

  it("cancels, retries a failed video, and shows the catalog's message for bad input", async () => {
    await simKnobs({ latency_ms: { kling: 60_000 } });
    const user = await newUser(1000);
    const page = await signedIn(user);
    await page.getByLabel("Your idea").fill("x");
    await page.getByRole("button", { name: "Make the video" }).first().click();
    await expect.poll(() => page.textContent("#error")).toBe("INVALID_REQUEST: idea: must be at least 3 characters");
    await page.screenshot({ path: `${SHOTS}/bad-input.png`, fullPage: true });

    await page.getByLabel("Your idea").fill("a paper boat on a rainy street");
    await page.getByRole("button", { name: "Make the video" }).first().click();
    await runStatus(page, "processing");
    await page.getByRole("button", { name: "Cancel" }).click();
    await runStatus(page, "canceled");

    await simKnobs({ task_fail_rate: 1, latency_ms: { kling: 300 } });
    await page.getByRole("button", { name: "Make the video" }).first().click();
    await runStatus(page, "failed");
    await simKnobs({ task_fail_rate: 0 });
    await page.getByRole("button", { name: "Retry" }).click();
    await runStatus(page, "completed");
    expect(await playedSeconds(page)).toBeCloseTo(5, 0);
  });

  it("a second user sees none of the first's videos; public ones are in the gallery", async () => {
    const first = await newUser(1000);
    const page = await signedIn(first);
    await page.getByLabel("Your idea").fill("a red kite over the sea");
    await page.getByRole("button", { name: "Make the video" }).first().click();
    await runStatus(page, "completed");
    await page.getByRole("tab", { name: "My videos" }).click();
    await page.waitForSelector("#mine-list li[data-status=completed]");
    expect(await page.$$eval("#mine-list li", (l) => l.length)).toBe(1);
    const mine = (await page.getAttribute("#mine-list li", "data-id"))!;
    await page.screenshot({ path: `${SHOTS}/my-videos.png`, fullPage: true });

    const second = await signedIn(await newUser(0));
    await second.getByRole("tab", { name: "My videos" }).click();
    await second.waitForFunction(() => document.getElementById("mine-list")!.children.length === 0 && !document.getElementById("error")!.textContent);
    await second.getByRole("tab", { name: "Gallery" }).click();
    await second.waitForSelector("#gallery-list li, #error:not([hidden])");
    // Private by default: not in the gallery either.
    const sources = await second.$$eval("#gallery-list video", (v) => v.map((x) => (x as HTMLVideoElement).src));
    expect(sources.some((src) => src.includes(mine))).toBe(false);
  });
});
