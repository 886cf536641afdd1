-- The engine: pipelines as a graph of steps (data), one row per task, provider capacity as
-- rows. Internal: the schema is not exposed by the Data API and only service_role uses it.

create schema engine;
revoke all on schema engine from public;
grant usage on schema engine to service_role;

-- The engine's named numbers, said once.
create table engine.settings (
  id boolean primary key default true check (id),
  max_active_generations_per_user integer not null default 3,
  generation_timeout interval not null default '30 minutes',
  redispatch_after interval not null default '15 seconds',  -- a wake-up not claimed by then is sent again
  wake_coalesce interval not null default '1 second',       -- one outstanding wake-up per function
  webhook_recheck_interval interval not null default '3 seconds',
  first_poll_after interval not null default '10 seconds',  -- webhooks normally finish first; polls are the fallback
  max_poll_interval interval not null default '60 seconds',
  poll_batch_size integer not null default 50,
  capacity_scale numeric not null default 1,                -- local testing only: scales every limit
  failover boolean not null default true,                   -- a step may move to its fallback provider
  circuit_failures integer not null default 3,              -- consecutive 5xx/timeouts that open a circuit
  circuit_open_for interval not null default '30 seconds',
  api_requests_per_minute integer not null default 60,      -- per user, as MovieFlow's ConcurrencyLimits
  api_burst integer not null default 10
);
insert into engine.settings default values;

-- Provider limits, per provider and endpoint where they differ (shared/providers/*.md).
create table engine.provider_capacity (
  key text primary key,                     -- provider:endpoint
  max_in_flight integer check (max_in_flight > 0),       -- null: no documented limit
  max_requests integer check (max_requests > 0),         -- per window; null: no documented limit
  window_seconds integer check (window_seconds > 0),
  paused_until timestamptz,                 -- set by a 429 (Retry-After, RetryInfo, or backoff up to the window)
  backoff_seconds numeric not null default 0,  -- the last pause without Retry-After; doubles per 429, reset by a claim
  failures integer not null default 0,      -- consecutive 5xx/timeouts; reset by a success
  circuit_open_until timestamptz,           -- while open, its steps move to their fallback (or wait)
  recent timestamptz[] not null default '{}',  -- request times inside the sliding window
  source text not null,
  check ((max_requests is null) = (window_seconds is null))
);
insert into engine.provider_capacity (key, max_in_flight, max_requests, window_seconds, source) values
  ('gemini:generateContent', null, null, null, 'gemini.md: per-project limits are unpublished; 429 RetryInfo pauses'),
  ('novita:txt2img', null, 20, 60, 'novita.md §8: txt2img 20 images/min (Seedream 3.0 unlisted, assumed)'),
  ('novita:merge_face', null, 10, 60, 'novita.md §8: merge_face 10 images/min'),
  ('novita:kling_i2v', null, 20, 60, 'novita.md §8: Kling i2v 20 RPM (v2.1 master unlisted, assumed)'),
  ('kie:createTask', 100, 20, 10, 'kie.md §6: 20 new generation requests per 10 s, 100+ running tasks'),
  ('gemini:image', null, null, null, 'gemini-image.md §7: per-project limits are unpublished; 429 RetryInfo pauses'),
  ('volcengine:tts', 5, null, null, 'volcengine-tts.md §5: per-account concurrency unpublished (assumed 5); 3003 pauses'),
  ('volcengine:jimeng', 5, 10, 1, 'volcengine.md §5: QPS and concurrency unpublished (assumed 10 QPS, 5 in flight); 50429/50430 pause');

create table engine.flow_steps (
  pipeline public.pipeline_kind not null,
  step text not null,
  handler text not null,                    -- the function (or worker) that runs its tasks
  kind text not null default 'single' check (kind in ('single', 'map')),
  map_over text,                            -- map: 'inputs.<key>' or a dependency whose output is an array
  run_if_input text,                        -- runs only when this input is present, else skipped
  capacity_key text references engine.provider_capacity (key),
  fallback_capacity_key text references engine.provider_capacity (key),  -- the same request at another provider
  weight integer not null check (weight >= 0),           -- share of the progress bar
  publish_output boolean not null default false,         -- its output is merged into generations.outputs
  lease_seconds integer not null default 15 check (lease_seconds > 0),  -- renewed by heartbeats
  max_attempts integer not null default 4 check (max_attempts > 0),
  base_delay_ms integer not null default 1000,
  max_delay_ms integer not null default 30000,
  -- A map over a map step whose task i starts as soon as that step's task i completes
  -- (segments normalised while others still generate); it depends on that step alone.
  starts_per_element boolean not null default false,
  runs_on text not null default 'edge_function' check (runs_on in ('edge_function', 'worker')),  -- a worker is woken by NOTIFY engine_wake
  poll_every interval,                      -- provider tasks with no webhook: polled this often (else the backoff schedule)
  primary key (pipeline, step),
  check ((kind = 'map') = (map_over is not null)),
  check (not starts_per_element or (kind = 'map' and map_over not like 'inputs.%'))
);
comment on table engine.flow_steps is
  'Steps of each pipeline: who runs them, map or single, condition, capacity, progress weight, lease and retry rules (1 s, x2, max 30 s).';

create table engine.flow_deps (
  pipeline public.pipeline_kind not null,
  step text not null,
  depends_on text not null,
  run_if_input text,                        -- a dependency only when this input is present
  primary key (pipeline, step, depends_on),
  foreign key (pipeline, step) references engine.flow_steps (pipeline, step),
  foreign key (pipeline, depends_on) references engine.flow_steps (pipeline, step),
  check (step <> depends_on)
);

insert into engine.flow_steps (pipeline, step, handler, run_if_input, capacity_key, weight, publish_output, lease_seconds) values
  ('cinematic', 'script', 'generate-script', null, 'gemini:generateContent', 5, true, 15),
  ('cinematic', 'base_image', 'txt2img', null, 'novita:txt2img', 10, true, 15),
  ('cinematic', 'face_merge', 'merge-face', 'selfie_path', 'novita:merge_face', 10, true, 15),
  ('cinematic', 'video', 'kling-i2v', null, 'novita:kling_i2v', 65, false, 15),
  ('cinematic', 'store_output', 'store-output', null, null, 10, true, 20),
  ('model_direct', 'video', 'kie-video', null, 'kie:createTask', 85, false, 15),
  ('model_direct', 'store_output', 'store-output', null, null, 15, true, 20);

-- Kling v2.1 master image-to-video is offered by Novita and by kie with the same fields.
update engine.flow_steps set fallback_capacity_key = 'kie:createTask' where pipeline = 'cinematic' and step = 'video';

insert into engine.flow_deps (pipeline, step, depends_on) values
  ('cinematic', 'base_image', 'script'),
  ('cinematic', 'face_merge', 'base_image'),
  ('cinematic', 'video', 'script'),
  ('cinematic', 'video', 'base_image'),
  ('cinematic', 'video', 'face_merge'),
  ('cinematic', 'store_output', 'video'),
  ('model_direct', 'store_output', 'video');

-- Per run and step: how many dependencies and tasks are still outstanding (pgflow's
-- remaining_deps / remaining_tasks), and the step's output once it is done.
create table engine.step_states (
  generation_id uuid not null references public.generations (id) on delete cascade,
  step text not null,
  status text not null default 'waiting' check (status in ('waiting', 'started', 'completed', 'skipped')),
  remaining_deps integer not null check (remaining_deps >= 0),
  task_count integer,
  remaining_tasks integer check (remaining_tasks >= 0),
  output jsonb,
  primary key (generation_id, step)
);

create table engine.tasks (
  id bigint generated always as identity primary key,
  generation_id uuid not null references public.generations (id) on delete cascade,
  user_id uuid not null,                    -- copied from the run: fair claims order by it
  pipeline public.pipeline_kind not null,
  step text not null,
  task_index integer not null default 0,
  handler text not null,
  capacity_key text,
  element jsonb,                            -- a map task's element
  status public.task_status not null default 'queued',
  attempt integer not null default 0,
  lease_token uuid,
  lease_until timestamptz,
  next_attempt_at timestamptz not null default now(),
  blocked_on text,                          -- the capacity key it waits for, when it waits
  dispatch_count integer not null default 0,
  wake_at timestamptz,                      -- queued: when reconcile wakes its function again
  provider text,
  provider_task_id text,
  webhook_token text not null default encode(extensions.gen_random_bytes(24), 'hex') unique,
  next_poll_at timestamptz,
  poll_count integer not null default 0,
  checked_at timestamptz,                   -- last provider re-check asked by a webhook
  provider_progress smallint not null default 0,
  output jsonb,
  error_code text,
  error_message text,
  price integer not null default 0,
  charged_round integer,                    -- the billing round whose capture this task holds
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (generation_id, step, task_index),
  foreign key (pipeline, step) references engine.flow_steps (pipeline, step),
  check ((status = 'running') = (lease_token is not null and lease_until is not null)),
  check (status <> 'waiting' or provider_task_id is not null)
);
create index tasks_ready_idx on engine.tasks (handler, next_attempt_at) where status = 'queued';
create index tasks_wake_idx on engine.tasks (wake_at) where status = 'queued';
create index tasks_lease_idx on engine.tasks (lease_until) where status = 'running';
create index tasks_poll_idx on engine.tasks (next_poll_at) where status = 'waiting';
create index tasks_in_flight_idx on engine.tasks (capacity_key) where status in ('running', 'waiting');

-- One outstanding wake-up per function: a burst of new tasks is one HTTP request, and the
-- woken function claims every due task of its own.
create table engine.wakeups (
  handler text primary key,
  posted_at timestamptz,
  consumed_at timestamptz
);

-- Per-user API rate limit: a token bucket (api_burst tokens, refilled at api_requests_per_minute).
create table engine.request_buckets (
  user_id uuid primary key references auth.users (id) on delete cascade,
  tokens numeric not null,
  refilled_at timestamptz not null
);
