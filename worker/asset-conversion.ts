// Audio assets converted once to the format the mixer reads (FLAC, 48 kHz, stereo): claimed
// from engine.asset_conversions under a lease (a worker that dies leaves it to the next), the
// upload replaced by the FLAC file. The upload was sniffed and checked by the assets function;
// ffmpeg reads it with that type pinned, local files only, under a time limit.
import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import { db } from "../packages/shared/src/db.ts";
import { logError } from "../packages/shared/src/log.ts";
import { openObject, removeObjects, uploadObject } from "../packages/shared/src/storage.ts";
import { probe, STORED_AUDIO, transcodeToStoredAudio, withTempDir } from "../packages/media/ffmpeg.ts";

/** The longest audio converted, in seconds of output (its ffmpeg's CPU and wall-clock limits
 * follow from it: packages/media/ffmpeg.ts), and a lease longer than that wall-clock limit. */
const CONVERSION_SECONDS = 600;
const LEASE = "25 minutes";

type Job = { asset_id: string; path: string; mime: string };
type Converted = { path: string; size: number; sha256: string; seconds: number };

async function convert(job: Job): Promise<Converted | { error: string }> {
  return await withTempDir(async (dir) => {
    const [upload, flac] = [`${dir}/upload`, `${dir}/audio.flac`];
    await Deno.writeFile(upload, await openObject("assets", job.path));
    try {
      await transcodeToStoredAudio(upload, job.mime, flac, CONVERSION_SECONDS);
    } catch (err) {
      return { error: `The audio could not be read (${(err as Error).message.split("\n").pop()})` };
    }
    const hash = createHash("sha256");
    for await (const chunk of (await open(flac)).createReadStream()) hash.update(chunk);
    const path = job.path.replace(/\.\w+$/, `.${STORED_AUDIO.ext}`);
    await uploadObject("assets", path, (await Deno.open(flac)).readable, STORED_AUDIO.mime);
    return { path, size: (await stat(flac)).size, sha256: hash.digest("hex"), seconds: (await probe(flac)).duration };
  });
}

/** Converts one waiting asset; false when none waits. A Storage or database failure leaves
 * the job to be taken again once its lease ends (at most 3 attempts). */
async function convertOne(): Promise<boolean> {
  const [job] = await db()<Job[]>`select * from engine.claim_asset_conversion(${LEASE}::interval)`;
  if (!job) return false;
  const done = await convert(job);
  const stored = "error" in done ? null : done;
  const [{ kept }] = await db()`select engine.finish_asset_conversion(${job.asset_id}, ${stored?.path ?? null}, ${stored?.size ?? null},
    ${stored?.sha256 ?? null}, ${stored?.seconds ?? null}, ${"error" in done ? done.error : null}) as kept`;
  // Kept: the upload is replaced; deleted meanwhile: so is what was just stored.
  const leftover = kept ? (stored && stored.path !== job.path ? [job.path] : []) : stored ? [stored.path] : [];
  await removeObjects("assets", leftover);
  return true;
}

let running = false;

/** Converts waiting audio assets one after another (one run at a time per worker). */
export async function convertAssets() {
  if (running) return;
  running = true;
  try {
    while (await convertOne()) { /* the next one */ }
  } catch (err) {
    logError("asset conversion", err);
  } finally {
    running = false;
  }
}
