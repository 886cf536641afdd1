// The model-direct pipeline: one kie.ai video task, then the shared store-output step.
import { config } from "../config.ts";
import { kieTask, type ModelDirectInputs } from "../models.ts";
import { kieConfig } from "../providers/index.ts";
import { createTask } from "../providers/kie.ts";
import { signedUrl } from "../storage.ts";
import type { StepHandler } from "./runner.ts";

export const submitKieVideo: StepHandler = async (c) => {
  const inputs = c.inputs as ModelDirectInputs;
  // kie fetches images itself: a character's stored image goes out as a day-long signed URL.
  const images = inputs.character_image_path ? [await signedUrl("selfies", inputs.character_image_path, 86_400)] : inputs.image_urls;
  const { taskId } = await createTask(kieConfig(), {
    ...kieTask({ ...inputs, image_urls: images }),
    callBackUrl: `${config().PUBLIC_FUNCTIONS_URL}/generation/webhook?token=${c.webhook_token}`,
  });
  return { awaitTask: { provider: "kie", taskId } };
};
