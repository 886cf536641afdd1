// The simulators' media shows each step's work: the idea drawn on the base image, the selfie
// merged where a face would be, and a camera move in the video, at the providers' sizes.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { call, ffprobe, newUser, resetSims, supabaseClient, type TestUser, waitForStatus, writeFile } from "./helpers";

const [W, H] = [720, 1280];
type Frame = { data: Buffer; width: number; height: number };

/** A selfie far from the test idea's picture (purple to brown): green with a darker grid. */
function greenSelfie(): Buffer {
  const file = `${mkdtempSync("/tmp/reelforge-")}/selfie.jpg`;
  execFileSync("ffmpeg", [
    "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=0x10e010:s=600x800,drawgrid=w=40:h=40:t=4:c=0x087008",
    "-frames:v", "1", file,
  ]);
  return readFileSync(file);
}

/** The picture decoded to RGB (24-bit) at its own size. */
function decode(file: string, seconds?: number): Frame {
  const { width, height } = ffprobe(file);
  const data = execFileSync("ffmpeg", [
    "-hide_banner", "-loglevel", "error", ...(seconds === undefined ? [] : ["-ss", String(seconds)]), "-i", file,
    "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
  ], { maxBuffer: 64 * 1024 * 1024 });
  return { data, width, height };
}

function meanAbsDifference(a: Frame, b: Frame) {
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i] - b.data[i]);
  return sum / a.data.length;
}

function meanColour(f: Frame, keep: (i: number) => boolean = () => true) {
  const sum = [0, 0, 0];
  let n = 0;
  for (let p = 0; p < f.width * f.height; p++) {
    if (!keep(p)) continue;
    for (let c = 0; c < 3; c++) sum[c] += f.data[p * 3 + c];
    n++;
  }
  return sum.map((s) => s / Math.max(n, 1));
}

/** Bright pixels right next to dark ones between rows `from` and `to` (fractions of the height): the edges of drawn text. */
function textEdges(f: Frame, from: number, to: number) {
  const lum = (p: number) => (f.data[p * 3] + f.data[p * 3 + 1] + f.data[p * 3 + 2]) / 3;
  let edges = 0;
  for (let y = Math.floor(f.height * from); y < Math.floor(f.height * to); y++) {
    for (let x = 0; x + 2 < f.width; x++) {
      const [a, b] = [lum(y * f.width + x), lum(y * f.width + x + 2)];
      if ((a > 200 && b < 80) || (b > 200 && a < 80)) edges++;
    }
  }
  return edges;
}

async function generate(user: TestUser, idea: string, selfie?: Buffer) {
  let selfiePath: string | undefined;
  if (selfie) {
    selfiePath = `${user.id}/${crypto.randomUUID()}.jpg`;
    const { error } = await supabaseClient(user.token).storage.from("selfies").upload(selfiePath, selfie, { contentType: "image/jpeg" });
    if (error) throw error;
  }
  const created = await call(user.token, "POST", "generations", { idea, ...(selfiePath ? { selfie_path: selfiePath } : {}) });
  expect(created.status).toBe(201);
  const id = created.body.generation.id as string;
  expect((await waitForStatus(id, ["completed", "failed"])).status).toBe("completed");
  const view = await call(user.token, "GET", `generations/${id}`);
  const video = await fetch(view.body.generation.video_url);
  expect(video.status).toBe(200);
  const file = `${mkdtempSync("/tmp/reelforge-")}/video.mp4`;
  writeFile(file, new Uint8Array(await video.arrayBuffer()));
  return file;
}

describe("the simulators' media shows what each step did", () => {
  const idea = "a fox astronaut planting a flag on the moon";
  const selfie = greenSelfie();
  let user: TestUser;
  let withSelfie: string;
  let withoutSelfie: string;

  beforeAll(async () => {
    await resetSims();
    user = await newUser();
    [withSelfie, withoutSelfie] = await Promise.all([generate(user, idea, selfie), generate(user, idea)]);
  }, 120_000);

  it("the video keeps the provider's size and length and the camera moves", () => {
    expect(ffprobe(withSelfie)).toMatchObject({ width: W, height: H, codec: "h264" });
    expect(ffprobe(withSelfie).duration).toBeCloseTo(5, 1);
    expect(meanAbsDifference(decode(withSelfie, 1), decode(withSelfie, 4))).toBeGreaterThan(8);
  });

  it("the merged region, where a face would be, carries the selfie's colour", () => {
    const [merged, plain] = [decode(withSelfie, 1), decode(withoutSelfie, 1)];
    const changed = (p: number) => [0, 1, 2].some((c) => Math.abs(merged.data[p * 3 + c] - plain.data[p * 3 + c]) > 60);
    const pixels = [...Array(W * H).keys()].filter(changed);
    expect(pixels.length / (W * H)).toBeGreaterThan(0.02);
    expect(pixels.length / (W * H)).toBeLessThan(0.25);
    const centreRow = pixels.reduce((s, p) => s + Math.floor(p / W), 0) / pixels.length;
    expect(centreRow).toBeLessThan(H / 2);
    const selfieColour = meanColour(decode(writeTemp(selfie, "selfie.jpg")));
    const mergedColour = meanColour(merged, changed);
    for (let c = 0; c < 3; c++) expect(Math.abs(mergedColour[c] - selfieColour[c])).toBeLessThan(40);
  });

  it("the prompt is drawn as text below the face and the motion prompt as a caption", () => {
    const frame = decode(withoutSelfie, 1);
    expect(textEdges(frame, 0.55, 0.9)).toBeGreaterThan(1500);
    expect(textEdges(frame, 0.9, 1)).toBeGreaterThan(300);
  });

  it("two ideas give visibly different pictures", async () => {
    const other = await generate(user, "a lighthouse keeper befriends a whale");
    expect(meanAbsDifference(decode(withoutSelfie, 1), decode(other, 1))).toBeGreaterThan(20);
  }, 60_000);
});

function writeTemp(bytes: Uint8Array, name: string) {
  const file = `${mkdtempSync("/tmp/reelforge-")}/${name}`;
  writeFile(file, bytes);
  return file;
}
