// The local stack's music library: the tracks the MovieFlow document names, synthesised with
// ffmpeg (FLAC 48 kHz stereo, as the library stores them) and put in the `music` bucket
// through Storage when missing. Operators replace them with real tracks of the same names.
import { API_URL, STACK_DIR } from "./env.ts";

const NOTE = 0.45; // seconds per note
/** A plucked pentatonic line (C D E G A), each note decaying like a zither string. */
function pentatonic() {
  const steps = [0, 2, 4, 7, 9, 12, 9, 7, 4, 2, 4, 7];
  const semitone = steps.reduceRight((rest, s, i) => `if(eq(k,${i}),${s},${rest})`, "0");
  const k = `mod(floor(t/${NOTE}),${steps.length})`;
  const tone = `0.3*sin(2*PI*t*261.63*pow(2,${semitone.replaceAll("k", k)}/12))*pow(1-mod(t,${NOTE})/${NOTE},2)`;
  return `${tone}|${tone}`;
}

/** A soft C major chord swelling slowly. */
const pad = () => {
  const chord = "0.1*(sin(2*PI*261.63*t)+sin(2*PI*329.63*t)+sin(2*PI*392*t))*(0.6+0.4*sin(2*PI*0.25*t))";
  return `${chord}|${chord}`;
};

/** Every music name the MovieFlow document uses: `effects.backgroundMusic` and the asset example. */
export const TRACKS: Record<string, () => string> = { chinese_traditional: pentatonic, background_music: pad };

export async function seedMusic(serviceKey: string) {
  const auth = { Authorization: `Bearer ${serviceKey}` };
  for (const [name, expr] of Object.entries(TRACKS)) {
    const url = `${API_URL}/storage/v1/object/music/${name}.flac`;
    const existing = await fetch(`${API_URL}/storage/v1/object/authenticated/music/${name}.flac`, { headers: auth });
    await existing.body?.cancel();
    if (existing.ok) continue;
    const file = `${STACK_DIR}/${name}.flac`;
    // Commas in an expression would end the filter in the filter graph: escaped.
    const made = await new Deno.Command("ffmpeg", {
      args: ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", `aevalsrc=${expr().replaceAll(",", "\\,")}:s=48000:d=16`,
             "-ac", "2", "-ar", "48000", "-c:a", "flac", file],
    }).output();
    if (!made.success) throw new Error(`ffmpeg could not make ${name}.flac: ${new TextDecoder().decode(made.stderr)}`);
    const res = await fetch(url, { method: "POST", headers: { ...auth, "content-type": "audio/flac" }, body: await Deno.readFile(file) });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`Storage refused ${name}.flac (HTTP ${res.status})`);
    await Deno.remove(file);
  }
}
