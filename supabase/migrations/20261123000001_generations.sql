-- Generations: one row per run of a pipeline (status, weighted progress, credits,
-- deadline). Its work is done by tasks (engine schema), one row per (step, index).

create type public.pipeline_kind as enum ('cinematic', 'model_direct', 'movie');
create type public.generation_status as enum (
  'queued',    -- waits for one of its owner's active-generation slots
  'running',   -- admitted: its tasks run as the pipeline's graph allows
  'completed', 'failed', 'canceled'
);
create type public.task_status as enum (
  'queued',    -- ready; waits for a worker (and, where the step needs one, a provider slot)
  'running',   -- a worker holds the lease and renews it while it works
  'waiting',   -- a provider task is in flight; webhooks and polls finish it
  'completed', 'failed', 'canceled'
);

-- Several generations asked for at once (MovieFlow's batch_generate): one after another when
-- not parallel, else side by side within the owner's active-generation slots.
create table public.generation_batches (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  parallel boolean not null default true,
  created_at timestamptz not null default now()
);

create table public.generations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  batch_id uuid references public.generation_batches (id) on delete cascade,
  pipeline public.pipeline_kind not null,
  status public.generation_status not null default 'queued',
  step text,                                  -- the step started most recently (for display)
  inputs jsonb not null,
  outputs jsonb not null default '{}'::jsonb, -- published step outputs: our Storage paths, the script
  price_plan jsonb not null,                  -- credits per task "step:index", fixed at create
  progress smallint not null default 0 check (progress between 0 and 100),
  remaining_steps integer not null default 0,
  deadline timestamptz,
  error_code text,
  error_message text,
  credits_reserved integer not null check (credits_reserved >= 0),  -- this billing round
  credits_charged integer not null default 0 check (credits_charged >= 0),
  credits_refunded integer not null default 0 check (credits_refunded >= 0),
  billing_round integer not null default 1,
  visibility text not null default 'private' check (visibility in ('public', 'private')),
  idempotency_key text check (char_length(idempotency_key) between 1 and 255),
  request_fingerprint text,                   -- what an idempotent repeat must match
  created_at timestamptz not null default clock_timestamp(),  -- distinct within a transaction: admission order
  updated_at timestamptz not null default now(),
  started_at timestamptz,
  completed_at timestamptz,
  unique (user_id, idempotency_key)
);

create index generations_user_created_idx on public.generations (user_id, created_at desc);
create index generations_batch_idx on public.generations (batch_id, created_at) where batch_id is not null;
create index generations_admission_idx on public.generations (user_id, created_at) where status = 'queued';
create index generations_deadline_idx on public.generations (deadline) where status = 'running';
create index generations_public_idx on public.generations (completed_at desc)
  where visibility = 'public' and status = 'completed';

-- What happened, in order: task transitions and the run's own status changes.
create table public.generation_events (
  id bigint generated always as identity primary key,
  generation_id uuid not null references public.generations (id) on delete cascade,
  user_id uuid not null,
  step text,                     -- null for the run's own status changes
  task_index integer,
  status text not null,          -- a task_status, or the run's generation_status when step is null
  attempt integer not null default 0,
  progress smallint not null,
  message text,
  created_at timestamptz not null default now()
);
create index generation_events_generation_idx on public.generation_events (generation_id, id);
