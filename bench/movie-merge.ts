// The movie merge against the figures in docs/anchors (Media): six 10 s 1088x1920 24 fps H.264
// segments at ~6 Mb/s and six narration mp3s, made here for each run. Measures the incremental
// path (normalise each segment as it is stored, mix the soundtrack as soon as the narrations
// exist, then join by copying packets) and, in the same run, the one-pass full re-encode it
// replaces. Run alone with
// `deno run -A bench/movie-merge.ts`, or as a section of `npm run bench`.
import { joinMovie, mixAudio, normalizeSegment, PLATFORM_PRESETS } from "../packages/media/ffmpeg.ts";

const SCENES = 6;
const SECONDS = 10;
const FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const CROSSFADE = 0.5;

async function run(cmd: string, args: string[]) {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}
const ffmpeg = (args: string[]) => run("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args]);

/** CPU seconds of this process's finished children (ffmpeg): less noisy than wall time on a shared machine. */
async function childCpuSeconds() {
  const f = (await Deno.readTextFile("/proc/self/stat")).split(") ")[1].split(" ");
  return (Number(f[13]) + Number(f[14])) / 100;
}

/** Wall and children's CPU seconds of one piece of work. */
async function timed(work: () => Promise<unknown>) {
  const [t, cpu] = [performance.now(), await childCpuSeconds()];
  await work();
  return { wall: (performance.now() - t) / 1000, cpu: (await childCpuSeconds()) - cpu };
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r2 = (x: number) => Math.round(x * 100) / 100;

export type MovieMergeFigures = {
  normalise_median_s: number;
  normalise_s: number[];
  normalise_median_cpu_s: number;
  soundtrack_s: number;
  soundtrack_cpu_s: number;
  join_s: number;
  join_cpu_s: number;
  last_segment_to_video_s: number;
  full_reencode_s: number;
  full_reencode_cpu_s: number;
  full_over_wait: number;
  full_over_incremental_work: number;
};

/** What the provider delivers per scene: 241 frames of 1088x1920 at 24 fps, High profile with B-frames, ~6 Mb/s. */
function makeSegment(file: string, scene: number) {
  return ffmpeg([
    "-f", "lavfi", "-i", `testsrc2=s=1088x1920:r=24,noise=alls=6:allf=t,drawtext=fontfile=${FONT}:text=Scene ${scene}:fontsize=120:fontcolor=white:x=(w-text_w)/2:y=h/3`,
    "-frames:v", "241", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "6M", "-maxrate", "6M", "-bufsize", "12M", "-pix_fmt", "yuv420p", file,
  ]);
}

/**
 * The approach anchors.md's first row measures: one ffmpeg run that scales and crops every
 * clip, crossfades them, lays the narrations and music and encodes everything with x264 medium.
 */
function fullReencode(inputs: string[], narrations: string[], music: string, output: string) {
  const p = PLATFORM_PRESETS.douyin;
  const v = inputs.map((_, i) =>
    `[${i}:v]scale=${p.width}:${p.height}:force_original_aspect_ratio=increase,crop=${p.width}:${p.height},setsar=1,fps=${p.fps},trim=end=${SECONDS},setpts=PTS-STARTPTS[v${i}]`
  );
  let last = "[v0]";
  for (let i = 1; i < inputs.length; i++) {
    v.push(`${last}[v${i}]xfade=transition=fade:duration=${CROSSFADE}:offset=${i * (SECONDS - CROSSFADE)}[x${i}]`);
    last = `[x${i}]`;
  }
  const total = inputs.length * SECONDS - (inputs.length - 1) * CROSSFADE;
  const fmt = `aresample=${p.audioRate},aformat=sample_fmts=fltp:channel_layouts=stereo`;
  const a = narrations.map((_, i) => `[${inputs.length + i}:a]${fmt},adelay=delays=${Math.round(i * (SECONDS - CROSSFADE) * 1000)}:all=1[n${i}]`);
  a.push(`[${inputs.length + narrations.length}:a]${fmt},volume=-12dB,atrim=end=${total}[m]`);
  a.push(`${narrations.map((_, i) => `[n${i}]`).join("")}[m]amix=inputs=${narrations.length + 1}:normalize=0:duration=longest,loudnorm=I=${p.lufs}:TP=${p.truePeak},${fmt},atrim=end=${total}[a]`);
  return ffmpeg([
    ...inputs.flatMap((f) => ["-i", f]), ...narrations.flatMap((f) => ["-i", f]), "-stream_loop", "-1", "-i", music,
    "-filter_complex", [...v, ...a].join(";"), "-map", last, "-map", "[a]",
    "-c:v", "libx264", "-preset", "medium", "-crf", "20", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", p.audioBitrate, "-movflags", "+faststart", output,
  ]);
}

export async function benchMovieMerge(): Promise<MovieMergeFigures> {
  const dir = await Deno.makeTempDir({ prefix: "reelforge-bench-media-" });
  try {
    const at = (name: string) => `${dir}/${name}`;
    const scenes = Array.from({ length: SCENES }, (_, i) => i + 1);
    console.error("media: making six 1088x1920 segments at 6 Mb/s and six narrations ...");
    for (const i of scenes) {
      await makeSegment(at(`in${i}.mp4`), i);
      await run("espeak-ng", ["-w", at(`n${i}.wav`), `Scene ${i}. The little monk walks up to the temple gate, bows, and smiles at the old abbot.`]);
      await ffmpeg(["-i", at(`n${i}.wav`), "-c:a", "libmp3lame", "-b:a", "64k", at(`n${i}.mp3`)]);
    }
    await ffmpeg([
      // FLAC at 48 kHz: what uploads of music are transcoded to (the mixer reads nothing else).
      "-f", "lavfi", "-i", "aevalsrc=0.25*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*0.5*t))+0.2*sin(2*PI*330*t):s=48000:d=20",
      "-ac", "2", "-c:a", "flac", at("music.flac"),
    ]);

    console.error("media: normalising and merging ...");
    const p = PLATFORM_PRESETS.douyin;
    const normalise: { wall: number; cpu: number }[] = [];
    for (const i of scenes) {
      normalise.push(await timed(() =>
        normalizeSegment({
          input: at(`in${i}.mp4`), output: at(`seg${i}.mp4`), width: p.width, height: p.height, fps: p.fps, seconds: SECONDS,
          fadeIn: i === 1 ? 0.5 : 0, fadeOut: i === SCENES ? 0.5 : 0, watermark: "ReelForge",
        })
      ));
    }
    // The soundtrack needs only the narrations: in the pipeline it is made while segments generate.
    const soundtrack = await timed(() =>
      mixAudio({
        sceneSeconds: scenes.map(() => SECONDS), narrations: scenes.map((i) => at(`n${i}.mp3`)), music: at("music.flac"),
        lufs: p.lufs, truePeak: p.truePeak, audioRate: p.audioRate, audioBitrate: p.audioBitrate, output: at("soundtrack.m4a"),
      })
    );
    const merge = await timed(() =>
      joinMovie({
        segments: scenes.map((i) => at(`seg${i}.mp4`)), audio: at("soundtrack.m4a"), seconds: SCENES * SECONDS, posterAt: SECONDS / 2,
        output: at("movie.mp4"), poster: at("poster.jpg"),
      })
    );

    console.error("media: the one-pass full re-encode (x264 medium) ...");
    const full = await timed(() =>
      fullReencode(scenes.map((i) => at(`in${i}.mp4`)), scenes.map((i) => at(`n${i}.mp3`)), at("music.flac"), at("full.mp4"))
    );
    const wait = normalise[SCENES - 1].wall + merge.wall;
    const work = normalise.reduce((a, b) => a + b.wall, 0) + soundtrack.wall + merge.wall;
    return {
      normalise_median_s: r2(median(normalise.map((n) => n.wall))),
      normalise_s: normalise.map((n) => r2(n.wall)),
      normalise_median_cpu_s: r2(median(normalise.map((n) => n.cpu))),
      soundtrack_s: r2(soundtrack.wall),
      soundtrack_cpu_s: r2(soundtrack.cpu),
      join_s: r2(merge.wall),
      join_cpu_s: r2(merge.cpu),
      last_segment_to_video_s: r2(wait),
      full_reencode_s: r2(full.wall),
      full_reencode_cpu_s: r2(full.cpu),
      full_over_wait: r2(full.wall / wait),
      full_over_incremental_work: r2(full.wall / work),
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Table rows: name, result, target, met. */
export function movieMergeRows(m: MovieMergeFigures): [string, string, string, boolean][] {
  return [
    ["media: normalise one 10 s segment (median of 6)", `${m.normalise_median_s} s (each: ${m.normalise_s.join(", ")}); ffmpeg CPU ${m.normalise_median_cpu_s} s`, "", true],
    ["media: soundtrack (narration + ducked music + loudness + AAC), made while segments generate", `${m.soundtrack_s} s; ffmpeg CPU ${m.soundtrack_cpu_s} s`, "", true],
    ["media: join (copy video and audio packets + faststart + poster)", `${m.join_s} s; ffmpeg CPU ${m.join_cpu_s} s`, "", true],
    ["media: last segment stored -> final video (normalise it + join)", `${m.last_segment_to_video_s} s`, "<= 5 s", m.last_segment_to_video_s <= 5],
    ["media: one-pass full re-encode (crossfades, x264 medium)", `${m.full_reencode_s} s, ffmpeg CPU ${m.full_reencode_cpu_s} s (${m.full_over_wait}x the wait after the last segment, ${m.full_over_incremental_work}x all incremental work)`, "", true],
  ];
}

if (import.meta.main) {
  const m = await benchMovieMerge();
  console.log("| benchmark | result | target | met |\n|---|---|---|---|");
  for (const [name, value, target, met] of movieMergeRows(m)) console.log(`| ${name} | ${value} | ${target} | ${target ? (met ? "yes" : "no") : ""} |`);
  console.log(`machine: ${navigator.hardwareConcurrency} cores`);
}
