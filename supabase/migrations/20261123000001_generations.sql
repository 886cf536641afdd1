-- Generations: one row per job holds its whole state. Steps and their retry rules are data.

create type public.pipeline_kind as enum ('cinematic', 'model_direct', 'movie');
create type public.generation_status as enum (
  'queued',    -- the current step waits for a worker (dispatched when next_attempt_at is due)
  'running',   -- a worker holds the lease on the current step
  'waiting',   -- a provider task is in flight; webhooks and polls finish it
  'completed', 'failed', 'canceled'
);

create table public.pipeline_steps (
  pipeline public.pipeline_kind not null,
  step text not null,
  function_name text not null,
  progress smallint not null check (progress between 0 and 100),
  is_final boolean not null default false,
  lease_seconds integer not null default 120 check (lease_seconds > 0),
  max_attempts integer not null default 4 check (max_attempts > 0),
  base_delay_ms integer not null default 1000,
  max_delay_ms integer not null default 30000,
  primary key (pipeline, step)
);
comment on table public.pipeline_steps is
  'Which edge function owns each step, and its lease and retry rules (initial 1 s, x2, max 30 s).';

create table public.step_transitions (
  pipeline public.pipeline_kind not null,
  from_step text not null,
  to_step text not null,
  primary key (pipeline, from_step, to_step),
  foreign key (pipeline, from_step) references public.pipeline_steps (pipeline, step),
  foreign key (pipeline, to_step) references public.pipeline_steps (pipeline, step)
);

insert into public.pipeline_steps (pipeline, step, function_name, progress, is_final, lease_seconds) values
  ('cinematic', 'script', 'generate-script', 5, false, 90),
  ('cinematic', 'base_image', 'txt2img', 20, false, 120),
  ('cinematic', 'face_merge', 'merge-face', 40, false, 90),
  ('cinematic', 'video', 'kling-i2v', 55, false, 90),
  ('cinematic', 'store_output', 'store-output', 95, true, 180),
  ('model_direct', 'video', 'kie-video', 10, false, 90),
  ('model_direct', 'store_output', 'store-output', 95, true, 180);

insert into public.step_transitions (pipeline, from_step, to_step) values
  ('cinematic', 'script', 'base_image'),
  ('cinematic', 'base_image', 'face_merge'),
  ('cinematic', 'base_image', 'video'),
  ('cinematic', 'face_merge', 'video'),
  ('cinematic', 'video', 'store_output'),
  ('model_direct', 'video', 'store_output');

create table public.generations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  pipeline public.pipeline_kind not null,
  status public.generation_status not null default 'queued',
  step text not null,
  attempt integer not null default 0,
  lease_token uuid,
  lease_until timestamptz,
  next_attempt_at timestamptz not null default now(),
  dispatched_at timestamptz,   -- when the outstanding wake-up for this queued state was sent
  dispatch_count integer not null default 0,
  wake_at timestamptz,          -- queued: when reconcile should (re)send the wake-up
  next_poll_at timestamptz,
  poll_count integer not null default 0,
  deadline timestamptz not null default now() + interval '30 minutes',
  provider text,
  provider_task_id text,
  webhook_token text not null default encode(extensions.gen_random_bytes(24), 'hex') unique,
  inputs jsonb not null,
  outputs jsonb not null default '{}'::jsonb,
  progress smallint not null default 0,
  error_code text,
  error_message text,
  credits_reserved integer not null check (credits_reserved >= 0),
  credits_charged integer not null default 0,
  billing_round integer not null default 1,
  visibility text not null default 'private' check (visibility in ('public', 'private')),
  idempotency_key text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  foreign key (pipeline, step) references public.pipeline_steps (pipeline, step),
  unique (user_id, idempotency_key),
  check ((status = 'running') = (lease_token is not null and lease_until is not null)),
  check (status <> 'waiting' or provider_task_id is not null)
);

create index generations_user_created_idx on public.generations (user_id, created_at desc);
create index generations_queued_wake_idx on public.generations (wake_at) where status = 'queued';
create index generations_lease_idx on public.generations (lease_until) where status = 'running';
create index generations_poll_idx on public.generations (next_poll_at) where status = 'waiting';
create index generations_deadline_idx on public.generations (deadline)
  where status in ('queued', 'running', 'waiting');
create index generations_provider_task_idx on public.generations (provider, provider_task_id)
  where provider_task_id is not null;
create index generations_public_idx on public.generations (completed_at desc)
  where visibility = 'public' and status = 'completed';

create table public.generation_events (
  id bigint generated always as identity primary key,
  generation_id uuid not null references public.generations (id) on delete cascade,
  user_id uuid not null,
  status public.generation_status not null,
  step text not null,
  attempt integer not null,
  progress smallint not null,
  message text,
  created_at timestamptz not null default now()
);
create index generation_events_generation_idx on public.generation_events (generation_id, id);
