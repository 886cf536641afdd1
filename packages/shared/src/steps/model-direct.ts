// The model-direct pipeline's handler: one kie.ai video task; store-output follows (the graph).
import { config } from "../config.ts";
import { beginSubmission } from "../engine.ts";
import { kieTask, type ModelDirectInputs } from "../models.ts";
import { kieConfig } from "../providers/index.ts";
import { createTask } from "../providers/kie.ts";
import { signedUrl } from "../storage.ts";
import type { StepHandler } from "./runner.ts";

export const submitKieVideo: StepHandler = async (t) => {
  const inputs = t.inputs as ModelDirectInputs;
  // kie fetches images itself: a character's stored image goes out as a day-long signed URL.
  const images = inputs.character_image_path ? [await signedUrl("selfies", inputs.character_image_path, 86_400)] : inputs.image_urls;
  await beginSubmission(t, "kie");
  const { taskId } = await createTask(kieConfig(), {
    ...kieTask({ ...inputs, image_urls: images }),
    callBackUrl: `${config().PUBLIC_FUNCTIONS_URL}/generation/webhook?token=${t.webhook_token}`,
  });
  return { submitted: { provider: "kie", taskId } };
};
