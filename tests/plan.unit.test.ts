// video-plan's choices per goal (packages/shared/src/plan.ts): what each goal changes, which
// model makes each scene, and the time in waves of five.
import { describe, expect, it } from "vitest";
import { movieRequest } from "../packages/shared/src/movie";
import { optimizeSpec, planScenes } from "../packages/shared/src/plan";

const spec = movieRequest.parse({
  projectName: "p",
  scenes: [
    { id: "a", prompt: "a lantern", duration: 10, sceneImage: true },
    ...["b", "c", "d", "e", "f"].map((id) => ({ id, prompt: `scene ${id}`, duration: 10 })),
  ],
});

describe("optimizeSpec", () => {
  it("quality: 1080P; speed: 720P with everything kept; cost: 720P and no scene images", () => {
    expect(optimizeSpec(spec, "quality").spec.config.quality).toBe("high");
    const speed = optimizeSpec(spec, "speed");
    expect(speed.spec.config.quality).toBe("low");
    expect(speed.spec.scenes[0].sceneImage).toBe(true);
    const cost = optimizeSpec(spec, "cost");
    expect(cost.spec.scenes[0].sceneImage).toBeUndefined();
    expect(cost.changes).toEqual(["quality high -> low (720P models)", "scene images dropped: those scenes are made from their prompt alone"]);
    expect(optimizeSpec(spec, "cost", "high").spec.config.quality).toBe("high");
  });
});

describe("planScenes", () => {
  it("names each scene's model and adds waves of five to the time", () => {
    const inputs = {
      hd: true, merge: true as const, scene_images: [{ scene_id: "a", prompt: "x" }], narrations: [],
      scenes: spec.scenes.map((s, i) => ({ id: s.id, kind: "video" as const, mode: i === 0 ? "i2v_first" as const : "t2v" as const, duration: 10 as const })),
    };
    const plan = planScenes(inputs as never, { "segment:0": 300, "segment:1": 300, "scene_image:0": 20, "merge:0": 10 });
    expect(plan.scenes[0]).toEqual({ id: "a", kind: "video", model: "jimeng_i2v_first_v30_1080", credits: 300, seconds: 120 });
    expect(plan.scenes[1].model).toBe("jimeng_t2v_v30_1080p");
    expect(plan.totals).toEqual({ credits: 630, seconds: 15 + 120 + 120 + 5 });
  });
});
