-- What step functions may do (service role only). Each is one compare-and-set statement:
-- a late or duplicate worker matches no row and changes nothing.

create function public.claim_step(p_generation_id uuid, p_step text)
returns table (generation_id uuid, lease_token uuid, attempt integer, user_id uuid,
               pipeline public.pipeline_kind, inputs jsonb, outputs jsonb, webhook_token text)
language sql security definer set search_path = '' as $$
  update public.generations g
  set status = 'running', lease_token = gen_random_uuid(), attempt = g.attempt + 1,
      lease_until = now() + make_interval(secs => s.lease_seconds), progress = greatest(g.progress, s.progress)
  from public.pipeline_steps s
  where g.id = p_generation_id and g.step = p_step and g.status = 'queued'
    and g.next_attempt_at <= now() and s.pipeline = g.pipeline and s.step = g.step
  returning g.id, g.lease_token, g.attempt, g.user_id, g.pipeline, g.inputs, g.outputs,
            g.webhook_token
$$;

create function public.complete_step(p_generation_id uuid, p_lease_token uuid, p_outputs jsonb,
  p_next_step text default null) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  update public.generations g
  set status = case when p_next_step is null then 'completed' else 'queued' end::public.generation_status,
      step = coalesce(p_next_step, g.step), attempt = 0, lease_token = null, lease_until = null,
      next_attempt_at = now(), outputs = g.outputs || p_outputs, error_code = null,
      error_message = null,
      progress = case when p_next_step is null then 100 else coalesce(
        (select s.progress from public.pipeline_steps s
         where s.pipeline = g.pipeline and s.step = p_next_step), g.progress) end
  where g.id = p_generation_id and g.status = 'running' and g.lease_token = p_lease_token;
  return found;
end $$;

create function public.await_task(p_generation_id uuid, p_lease_token uuid, p_provider text,
  p_task_id text, p_outputs jsonb default '{}'::jsonb) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  update public.generations g
  set status = 'waiting', lease_token = null, lease_until = null, provider = p_provider,
      provider_task_id = p_task_id, next_poll_at = now() + interval '5 seconds', poll_count = 0,
      outputs = g.outputs || p_outputs
  where g.id = p_generation_id and g.status = 'running' and g.lease_token = p_lease_token;
  return found;
end $$;

-- The provider's percent maps into the step's share of the bar (up to 94%, where storing
-- the output begins); progress never goes backwards.
create function public.report_task_progress(p_generation_id uuid, p_task_id text,
  p_progress integer) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  update public.generations g
  set progress = s.progress + (94 - s.progress) * least(greatest(p_progress, 0), 100) / 100
  from public.pipeline_steps s
  where g.id = p_generation_id and g.status = 'waiting' and g.provider_task_id = p_task_id
    and s.pipeline = g.pipeline and s.step = g.step
    and g.progress < s.progress + (94 - s.progress) * least(greatest(p_progress, 0), 100) / 100;
  return found;
end $$;

create function public.resolve_task(p_generation_id uuid, p_task_id text, p_outputs jsonb,
  p_next_step text) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  update public.generations g
  set status = 'queued', step = p_next_step, attempt = 0, next_attempt_at = now(),
      next_poll_at = null, outputs = g.outputs || p_outputs,
      progress = (select s.progress from public.pipeline_steps s
                  where s.pipeline = g.pipeline and s.step = p_next_step)
  where g.id = p_generation_id and g.status = 'waiting' and g.provider_task_id = p_task_id;
  return found;
end $$;

create function public.fail_step(p_generation_id uuid, p_lease_token uuid, p_code text,
  p_message text) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  update public.generations
  set status = 'failed', lease_token = null, lease_until = null, error_code = p_code,
      error_message = p_message
  where id = p_generation_id and status = 'running' and lease_token = p_lease_token;
  return found;
end $$;

create function public.fail_task(p_generation_id uuid, p_task_id text, p_code text,
  p_message text) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  update public.generations
  set status = 'failed', next_poll_at = null, error_code = p_code, error_message = p_message
  where id = p_generation_id and status = 'waiting' and provider_task_id = p_task_id;
  return found;
end $$;

-- A retryable provider error: back off (initial 1 s, x2, max 30 s, with jitter) until the
-- step's attempts are used up, then fail with the provider's reason. Returns when the retry
-- is due, or null when the generation failed instead.
create function public.schedule_retry(p_generation_id uuid, p_lease_token uuid, p_code text,
  p_message text, p_retry_after_ms integer default null) returns timestamptz
language plpgsql security definer set search_path = '' as $$
declare
  result timestamptz;
begin
  update public.generations g
  set status = case when g.attempt >= s.max_attempts then 'failed' else 'queued' end::public.generation_status,
      lease_token = null, lease_until = null, error_code = p_code,
      error_message = case when g.attempt >= s.max_attempts
        then format('%s (gave up after %s attempts)', p_message, g.attempt) else p_message end,
      next_attempt_at = now() + make_interval(secs => greatest(
        coalesce(p_retry_after_ms, 0),
        least(s.max_delay_ms, s.base_delay_ms * 2 ^ (g.attempt - 1)) * (0.5 + random() / 2)) / 1000.0)
  from public.pipeline_steps s
  where g.id = p_generation_id and g.status = 'running' and g.lease_token = p_lease_token
    and s.pipeline = g.pipeline and s.step = g.step
  returning case when g.status = 'queued' then g.next_attempt_at end into result;
  return result;
end $$;

create function public.schedule_poll(p_generation_id uuid, p_task_id text) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  update public.generations g
  set next_poll_at = now() + make_interval(secs => least(60, 5 * 2 ^ least(g.poll_count, 4)))
  where g.id = p_generation_id and g.status = 'waiting' and g.provider_task_id = p_task_id;
  return found;
end $$;
