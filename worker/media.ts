// The media worker: ffmpeg work of the movie pipeline, outside edge functions (which have
// no ffmpeg and short wall-clock limits). It claims `media-worker` tasks from the same
// engine as the functions (leases, heartbeats, retries), so any number of workers can run
// anywhere Postgres and Storage are reachable; a worker that dies mid-task loses its lease
// and another (or the same, restarted) runs the task again. Woken by NOTIFY engine_wake.
//
//   deno run -A worker/media.ts      (env: SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY, SUPABASE_DB_URL, JWT_SECRET)
import postgres from "postgres";
import { config } from "../packages/shared/src/config.ts";
import { cachePut, type Task } from "../packages/shared/src/engine.ts";
import { readPublicMedia } from "../packages/shared/src/fetch-public.ts";
import { logError } from "../packages/shared/src/log.ts";
import type { MovieInputs, MovieScene } from "../packages/shared/src/movie.ts";
import { drain, type StepHandler } from "../packages/shared/src/steps/runner.ts";
import { outputPath } from "../packages/shared/src/steps/cinematic.ts";
import { downloadObject, uploadObject } from "../packages/shared/src/storage.ts";
import { convertAssets } from "./asset-conversion.ts";
import { joinMovie, mixAudio, normalizeSegment, PLATFORM_PRESETS, probe, withTempDir } from "../packages/media/ffmpeg.ts";

const NAME = "media-worker";
/** ffmpeg jobs at once: one per core by default (the drain keeps this many running). */
const CONCURRENCY = Number(Deno.env.get("MEDIA_WORKER_CONCURRENCY")) || navigator.hardwareConcurrency || 2;
/** Looks for due work this often even without a wake-up (reconcile also re-wakes). */
const IDLE_CHECK_MS = 5_000;
const FADE_SECONDS = 0.3;
/** Leases renewed every second: a canceled movie's ffmpeg is stopped within 2 s. */
const HEARTBEAT_MS = 1_000;

const inputs = (t: Task) => t.inputs as MovieInputs;

/** The segment's video, stored in this run's folder: a provider's copied out at once (its URL
 * lives an hour) and remembered by the media cache when its request may be repeated; one
 * from the cache is there already. */
async function storedSegment(t: Task, scene: MovieScene): Promise<{ path: string; bytes: Uint8Array<ArrayBuffer> }> {
  const segment = t.element as { provider_video_url?: string; video_path?: string };
  if (segment.video_path) return { path: segment.video_path, bytes: await downloadObject("outputs", segment.video_path) };
  const raw = await readPublicMedia("volcengine", segment.provider_video_url!, "video");
  const path = outputPath(t, `segments/${scene.id}.mp4`);
  await uploadObject("outputs", path, raw.bytes, "video/mp4");
  if (scene.cache_key) await cachePut(t.user_id, "segment", scene.cache_key, path, { mime_type: "video/mp4" });
  return { path, bytes: raw.bytes };
}

/** A segment, for a movie normalised to the platform's canvas while the other segments are
 * still generating (a talking head shorter than its scene holds its last frame). */
const normalize: StepHandler = (t, signal) =>
  withTempDir(async (dir) => {
    const run = inputs(t);
    const scene = run.scenes[t.task_index];
    const { path: segmentPath, bytes } = await storedSegment(t, scene);
    await Deno.writeFile(`${dir}/raw.mp4`, bytes);
    if (!run.merge) return { segment_path: segmentPath, seconds: (await probe(`${dir}/raw.mp4`, signal)).duration };
    const fade = run.transitions ? FADE_SECONDS : 0;
    const result = await normalizeSegment({
      input: `${dir}/raw.mp4`, output: `${dir}/normalized.mp4`, width: run.width, height: run.height, fps: run.fps,
      seconds: scene.duration, fadeIn: fade, fadeOut: fade, watermark: run.watermark, signal,
    });
    const normalizedPath = outputPath(t, `normalized/${scene.id}.mp4`);
    await uploadObject("outputs", normalizedPath, await Deno.readFile(`${dir}/normalized.mp4`), "video/mp4");
    return { segment_path: segmentPath, normalized_path: normalizedPath, seconds: result.seconds };
  });

/** Downloads Storage objects into a scratch directory; answers the local file. Its name's
 * extension is the type we know it has (ffmpeg reads it with that demuxer, whatever it holds). */
const fetcher = (dir: string) => async (bucket: string, path: string, file: string) => {
  await Deno.writeFile(`${dir}/${file}`, await downloadObject(bucket, path));
  return `${dir}/${file}`;
};

/** The soundtrack, as soon as the narrations exist (segments are still generating): narration
 * at each scene's start, music ducked under it, loudness for the platform. */
const mixSoundtrack: StepHandler = (t, signal) =>
  withTempDir(async (dir) => {
    const run = inputs(t);
    const narrations = (t.deps.narration ?? []) as { scene_id: string; audio_path: string }[];
    const fetchTo = fetcher(dir);
    const preset = PLATFORM_PRESETS[run.platform];
    const { seconds } = await mixAudio({
      sceneSeconds: run.scenes.map((s) => s.duration),
      narrations: await Promise.all(run.scenes.map((s, i) => {
        const spoken = narrations.find((n) => n.scene_id === s.id);
        return spoken ? fetchTo("outputs", spoken.audio_path, `narration-${i}.mp3`) : null;
      })),
      // Uploaded music is transcoded to FLAC at upload; anything else in its place is refused by the mixer.
      music: run.music_path ? await fetchTo("assets", run.music_path, "music.flac") : null,
      lufs: preset.lufs, truePeak: preset.truePeak, audioRate: preset.audioRate, audioBitrate: preset.audioBitrate,
      output: `${dir}/soundtrack.m4a`,
      signal,
    });
    const audioPath = outputPath(t, "soundtrack.m4a");
    await uploadObject("outputs", audioPath, await Deno.readFile(`${dir}/soundtrack.m4a`), "audio/mp4");
    return { audio_path: audioPath, seconds };
  });

/** The movie: normalised segments and the soundtrack joined by copying packets; a poster. */
const merge: StepHandler = (t, signal) =>
  withTempDir(async (dir) => {
    const run = inputs(t);
    const segments = t.deps.normalize as { normalized_path: string }[];
    const { audio_path } = t.deps.mix_audio as { audio_path: string };
    const fetchTo = fetcher(dir);
    const { seconds } = await joinMovie({
      segments: await Promise.all(segments.map((s, i) => fetchTo("outputs", s.normalized_path, `segment-${i}.mp4`))),
      audio: await fetchTo("outputs", audio_path, "soundtrack.m4a"),
      seconds: run.scenes.reduce((sum, s) => sum + s.duration, 0),
      posterAt: run.scenes[0].duration / 2,
      output: `${dir}/movie.mp4`,
      poster: `${dir}/poster.jpg`,
      signal,
    });
    const videoPath = outputPath(t, "movie.mp4");
    const posterPath = outputPath(t, "poster.jpg");
    await uploadObject("outputs", videoPath, await Deno.readFile(`${dir}/movie.mp4`), "video/mp4");
    await uploadObject("outputs", posterPath, await Deno.readFile(`${dir}/poster.jpg`), "image/jpeg");
    return { video_path: videoPath, poster_path: posterPath, seconds };
  });

const handlers = { normalize, mix_audio: mixSoundtrack, merge };
const work = () => drain(NAME, handlers, CONCURRENCY, HEARTBEAT_MS).catch((err) => logError(NAME, err));

const listener = postgres(config().SUPABASE_DB_URL, { max: 1, onnotice: () => {} });
// Movie steps and audio assets to convert (worker/asset-conversion.ts) share the wake-up.
const wake = () => (work(), convertAssets());
await listener.listen("engine_wake", (handler) => {
  if (handler === NAME) wake();
}, wake);
setInterval(wake, IDLE_CHECK_MS);
console.log(`${NAME}: listening (${CONCURRENCY} at a time)`);
