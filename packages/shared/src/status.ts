// The API's one status vocabulary (app.api_status in SQL maps the engine's to it): a run or a
// step that is running, or waiting for its provider, is processing. generation/status and
// MovieFlow keep their contracts' words (pending; merging), mapped from these.
export const API_STATUSES = ["queued", "processing", "completed", "failed", "canceled"] as const;
export type ApiStatus = (typeof API_STATUSES)[number];

export const PIPELINES = ["cinematic", "model_direct", "movie"] as const;
