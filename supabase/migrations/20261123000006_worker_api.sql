-- What functions and workers may do (service role only). Every transition is one
-- compare-and-set statement keyed by task: the lease token while a worker runs it, the
-- provider task id while the provider does. A late or duplicate worker matches no row.

-- Provider capacity ------------------------------------------------------------------------

-- Free slots for a provider endpoint now (locks its row: claims for it serialize).
create function engine.capacity_available(p_key text) returns integer
language plpgsql security definer set search_path = '' as $$
declare
  cap engine.provider_capacity;
  scale numeric := (engine.settings()).capacity_scale;
  free integer := 2147483647;
begin
  select * into cap from engine.provider_capacity where key = p_key for update;
  if cap.paused_until > now() or cap.circuit_open_until > now() then
    return 0;
  end if;
  if cap.max_requests is not null then
    free := least(free, floor(cap.max_requests * scale)::integer - (select count(*)::integer from unnest(cap.recent) r
                                 where r > now() - make_interval(secs => cap.window_seconds)));
  end if;
  if cap.max_in_flight is not null then
    free := least(free, floor(cap.max_in_flight * scale)::integer - (select count(*)::integer from engine.tasks t
                                   where t.capacity_key = p_key and t.status in ('running', 'waiting')));
  end if;
  return greatest(free, 0);
end $$;

-- When a slot may be free again: the pause's or open circuit's end; with a full window, the
-- moment its oldest counted request leaves it; else (in-flight limit) soon, when the claim
-- looks again.
create function engine.capacity_free_at(p_key text) returns timestamptz
language sql stable security definer set search_path = '' as $$
  select greatest(coalesce(c.paused_until, now()), coalesce(c.circuit_open_until, now()),
                  coalesce((select w.r + make_interval(secs => c.window_seconds)
                            from (select r from unnest(c.recent) r where r > now() - make_interval(secs => c.window_seconds)
                                  order by r desc offset floor(c.max_requests * (engine.settings()).capacity_scale)::integer - 1 limit 1) w),
                           now()),
                  now() + interval '1 second')
  from engine.provider_capacity c where c.key = p_key
$$;

-- Claiming -------------------------------------------------------------------------------

-- Claims up to p_limit due tasks of one function, fairly: round-robin between users (each
-- user's oldest first), and only as many per provider endpoint as it has free slots. A step
-- whose provider is out of slots (or whose circuit is open) takes its fallback provider's
-- slot when failover is on; tasks that must wait are rescheduled to when a slot frees. Each
-- claimed task's price is captured now: its paid work starts. `capacity_key` tells the
-- handler which provider it got.
create function engine.start_tasks(p_handler text, p_limit integer default 10)
returns table (task_id bigint, lease_token uuid, attempt integer, generation_id uuid, user_id uuid,
               pipeline public.pipeline_kind, step text, task_index integer, inputs jsonb,
               element jsonb, deps jsonb, webhook_token text, capacity_key text)
language plpgsql security definer set search_path = '' as $$
declare
  c record;
  picked bigint[] := '{}';
  keys text[] := '{}';     -- the capacity each picked task takes, in step with picked
  blocked bigint[] := '{}';
  budget jsonb := '{}'::jsonb;
  failover boolean := (engine.settings()).failover;
  chosen text;
begin
  for c in
    select r.id, r.primary_key, r.fallback_key from (
      select t.id, f.capacity_key as primary_key, f.fallback_capacity_key as fallback_key,
             row_number() over (partition by t.user_id order by t.id) as user_rank
      from engine.tasks t
      join public.generations g on g.id = t.generation_id and g.status = 'running'
      join engine.flow_steps f on f.pipeline = t.pipeline and f.step = t.step
      where t.handler = p_handler and t.status = 'queued' and t.next_attempt_at <= now()
      order by t.next_attempt_at limit 500) r
    order by r.user_rank, r.id
  loop
    exit when cardinality(picked) >= p_limit;
    chosen := null;
    foreach chosen in array array_remove(array[c.primary_key, case when failover then c.fallback_key end], null) loop
      if not budget ? chosen then
        budget := budget || jsonb_build_object(chosen, engine.capacity_available(chosen));
      end if;
      exit when (budget ->> chosen)::integer > 0;
      chosen := '';  -- none free so far
    end loop;
    if chosen = '' then
      blocked := blocked || c.id;
      continue;
    end if;
    perform 1 from engine.tasks t where t.id = c.id and t.status = 'queued' for update skip locked;
    if found then
      picked := picked || c.id;
      keys := keys || chosen;
      if chosen is not null then
        budget := jsonb_set(budget, array[chosen], to_jsonb((budget ->> chosen)::integer - 1));
      end if;
    end if;
  end loop;

  if cardinality(blocked) > 0 then
    update engine.tasks t set blocked_on = f.capacity_key, next_attempt_at = engine.capacity_free_at(f.capacity_key)
    from engine.flow_steps f
    where t.id in (select b.id from engine.tasks b where b.id = any(blocked) and b.status = 'queued'
                   for update skip locked)
      and f.pipeline = t.pipeline and f.step = t.step;
  end if;
  if cardinality(picked) = 0 then
    return;
  end if;

  -- The runs, locked: a run that ended meanwhile starts nothing and captures nothing.
  perform 1 from public.generations g
  where g.id in (select t.generation_id from engine.tasks t where t.id = any(picked))
  order by g.id for update;
  select coalesce(array_agg(t.id), '{}') into picked
  from engine.tasks t join public.generations g on g.id = t.generation_id
  where t.id = any(picked) and g.status = 'running';

  -- Each claimed task takes the capacity chosen above (its in-flight slot and a request in
  -- the window).
  update engine.tasks t set capacity_key = k.key
  from unnest(picked, keys) as k (id, key)
  where t.id = k.id and t.id = any(picked) and t.capacity_key is distinct from k.key;
  update engine.provider_capacity p
  set recent = array(select r from unnest(p.recent) r where r > now() - make_interval(secs => p.window_seconds))
               || array_fill(now(), array[u.n])
  from (select t.capacity_key, count(*)::integer as n from engine.tasks t
        where t.id = any(picked) and t.capacity_key is not null group by 1) u
  where p.key = u.capacity_key and p.window_seconds is not null;
  update engine.provider_capacity p set backoff_seconds = 0
  where p.backoff_seconds > 0 and p.key in (select t.capacity_key from engine.tasks t where t.id = any(picked));

  with charged as (
    select t.id, t.generation_id, t.user_id, t.step, t.task_index, t.price, g.billing_round
    from engine.tasks t join public.generations g on g.id = t.generation_id
    where t.id = any(picked) and t.price > 0 and t.charged_round is null
  ), captured as (
    insert into public.credit_ledger (user_id, generation_id, billing_round, step, task_index, kind, amount)
    select ch.user_id, ch.generation_id, ch.billing_round, ch.step, ch.task_index, 'capture', ch.price
    from charged ch
    on conflict do nothing
    returning credit_ledger.generation_id, credit_ledger.amount
  )
  update public.generations g set credits_charged = g.credits_charged + s.amount
  from (select cp.generation_id, sum(cp.amount)::integer as amount from captured cp group by 1) s
  where g.id = s.generation_id;

  update engine.tasks t
  set status = 'running', lease_token = gen_random_uuid(), attempt = t.attempt + 1,
      lease_until = now() + make_interval(secs => f.lease_seconds),
      charged_round = case when t.price > 0 and t.charged_round is null then g.billing_round else t.charged_round end
  from engine.flow_steps f, public.generations g
  where t.id = any(picked) and f.pipeline = t.pipeline and f.step = t.step and g.id = t.generation_id;

  return query
  select t.id, t.lease_token, t.attempt, t.generation_id, t.user_id, t.pipeline, t.step, t.task_index,
         g.inputs, t.element,
         coalesce((select jsonb_object_agg(d.depends_on, ss.output) from engine.flow_deps d
                   join engine.step_states ss on ss.generation_id = t.generation_id and ss.step = d.depends_on
                   where d.pipeline = t.pipeline and d.step = t.step), '{}'::jsonb),
         t.webhook_token, t.capacity_key
  from engine.tasks t join public.generations g on g.id = t.generation_id
  where t.id = any(picked);
end $$;

-- A wake-up was received: from now on a new due task posts a new one.
create function engine.consume_wakeup(p_handler text) returns void
language sql security definer set search_path = '' as $$
  update engine.wakeups set consumed_at = clock_timestamp() where handler = p_handler
$$;

-- When this function's next queued task is due (capacity or backoff), if any.
create function engine.next_due(p_handler text) returns timestamptz
language sql stable security definer set search_path = '' as $$
  select min(t.next_attempt_at) from engine.tasks t
  join public.generations g on g.id = t.generation_id and g.status = 'running'
  where t.handler = p_handler and t.status = 'queued'
$$;

-- While it works ----------------------------------------------------------------------------

-- A running task renews its short lease; false means it is no longer this worker's.
create function engine.heartbeat(p_task_id bigint, p_lease_token uuid) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  update engine.tasks t set lease_until = now() + make_interval(secs => f.lease_seconds)
  from engine.flow_steps f
  where t.id = p_task_id and t.status = 'running' and t.lease_token = p_lease_token
    and f.pipeline = t.pipeline and f.step = t.step;
  return found;
end $$;

-- The handler submitted a provider task: webhooks and polls finish it.
create function engine.await_provider(p_task_id bigint, p_lease_token uuid, p_provider text,
  p_provider_task_id text) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  update engine.tasks t
  set status = 'waiting', lease_token = null, lease_until = null, provider = p_provider,
      provider_task_id = p_provider_task_id, poll_count = 0,
      next_poll_at = now() + coalesce(f.poll_every, (engine.settings()).first_poll_after)
  from engine.flow_steps f
  where t.id = p_task_id and t.status = 'running' and t.lease_token = p_lease_token
    and f.pipeline = t.pipeline and f.step = t.step;
  if found then
    perform engine.record_provider_outcome(p_task_id, true);
  end if;
  return found;
end $$;

-- Ending a task: p_token is the lease token of a running task or the provider task id of a
-- waiting one.
create function engine.complete_task(p_task_id bigint, p_token text, p_output jsonb) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  update engine.tasks
  set status = 'completed', output = p_output, lease_token = null, lease_until = null,
      next_poll_at = null, error_code = null, error_message = null
  where id = p_task_id
    and ((status = 'running' and lease_token::text = p_token) or (status = 'waiting' and provider_task_id = p_token));
  if found then
    perform engine.record_provider_outcome(p_task_id, true);
  end if;
  return found;
end $$;

create function engine.fail_task(p_task_id bigint, p_token text, p_code text, p_message text) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  update engine.tasks
  set status = 'failed', lease_token = null, lease_until = null, next_poll_at = null,
      error_code = p_code, error_message = p_message
  where id = p_task_id
    and ((status = 'running' and lease_token::text = p_token) or (status = 'waiting' and provider_task_id = p_token));
  return found;
end $$;

-- A retryable error: back off (initial 1 s, x2, max 30 s, with jitter, at least Retry-After)
-- until the step's attempts are used up, then fail with the provider's reason. Returns when
-- the retry is due, or null when the task failed instead.
create function engine.retry_task(p_task_id bigint, p_lease_token uuid, p_code text, p_message text,
  p_retry_after_ms integer default null) returns timestamptz
language plpgsql security definer set search_path = '' as $$
declare
  result timestamptz;
begin
  update engine.tasks t
  set status = case when t.attempt >= f.max_attempts then 'failed' else 'queued' end::public.task_status,
      lease_token = null, lease_until = null, error_code = p_code,
      error_message = case when t.attempt >= f.max_attempts
        then format('%s (gave up after %s attempts)', p_message, t.attempt) else p_message end,
      next_attempt_at = now() + make_interval(secs => greatest(
        coalesce(p_retry_after_ms, 0),
        least(f.max_delay_ms, f.base_delay_ms * 2 ^ (t.attempt - 1)) * (0.5 + random() / 2)) / 1000.0)
  from engine.flow_steps f
  where t.id = p_task_id and t.status = 'running' and t.lease_token = p_lease_token
    and f.pipeline = t.pipeline and f.step = t.step
  returning case when t.status = 'queued' then t.next_attempt_at end into result;
  if p_code = 'SERVICE_UNAVAILABLE' then
    perform engine.record_provider_outcome(p_task_id, false);
  end if;
  return result;
end $$;

-- A circuit per provider endpoint: circuit_failures consecutive 5xx/timeouts open it for
-- circuit_open_for (its steps move to their fallback meanwhile); a success closes it.
create function engine.record_provider_outcome(p_task_id bigint, p_ok boolean) returns void
language plpgsql security definer set search_path = '' as $$
declare
  cfg engine.settings := engine.settings();
begin
  if p_ok then
    update engine.provider_capacity c set failures = 0, circuit_open_until = null
    where c.key = (select t.capacity_key from engine.tasks t where t.id = p_task_id) and c.failures > 0;
  else
    update engine.provider_capacity c
    set failures = c.failures + 1,
        circuit_open_until = case when c.failures + 1 >= cfg.circuit_failures then now() + cfg.circuit_open_for
                                  else c.circuit_open_until end
    where c.key = (select t.capacity_key from engine.tasks t where t.id = p_task_id);
  end if;
end $$;

-- The provider said 429: pause that endpoint (Retry-After, RetryInfo, or backoff) and
-- put the task back without spending an attempt. Returns when it may run again.
create function engine.requeue_rate_limited(p_task_id bigint, p_lease_token uuid, p_message text,
  p_retry_after_ms integer default null) returns timestamptz
language plpgsql security definer set search_path = '' as $$
declare
  cap_key text;
  resume_at timestamptz;
begin
  select t.capacity_key into cap_key from engine.tasks t
  where t.id = p_task_id and t.status = 'running' and t.lease_token = p_lease_token;
  if cap_key is null then
    return engine.retry_task(p_task_id, p_lease_token, 'RATE_LIMIT_EXCEEDED', p_message, p_retry_after_ms);
  end if;
  -- Without Retry-After, back off exponentially (1 s, x2) up to the endpoint's window.
  update engine.provider_capacity c
  set backoff_seconds = case when p_retry_after_ms is null
        then least(coalesce(c.window_seconds, 60), greatest(1, c.backoff_seconds * 2)) else c.backoff_seconds end,
      paused_until = greatest(coalesce(c.paused_until, now()), now() + make_interval(secs => coalesce(p_retry_after_ms / 1000.0,
        least(coalesce(c.window_seconds, 60), greatest(1, c.backoff_seconds * 2)))))
  where c.key = cap_key
  returning c.paused_until into resume_at;
  update engine.tasks
  set status = 'queued', attempt = attempt - 1, lease_token = null, lease_until = null,
      next_attempt_at = resume_at, blocked_on = cap_key, error_code = 'RATE_LIMIT_EXCEEDED',
      error_message = p_message
  where id = p_task_id and status = 'running' and lease_token = p_lease_token;
  return case when found then resume_at end;
end $$;

-- Provider tasks ----------------------------------------------------------------------------

-- A webhook may ask for a re-check of its task at most once per webhook_recheck_interval.
create function engine.webhook_task(p_webhook_token text)
returns table (task_id bigint, provider text, provider_task_id text)
language sql security definer set search_path = '' as $$
  update engine.tasks t set checked_at = now()
  where t.webhook_token = p_webhook_token and t.status = 'waiting'
    and (t.checked_at is null or t.checked_at < now() - (engine.settings()).webhook_recheck_interval)
  returning t.id, t.provider, t.provider_task_id
$$;

create function engine.report_provider_progress(p_task_id bigint, p_provider_task_id text,
  p_progress integer) returns boolean
language plpgsql security definer set search_path = '' as $$
declare
  run uuid;
begin
  update engine.tasks set provider_progress = least(greatest(p_progress, 0), 100)
  where id = p_task_id and status = 'waiting' and provider_task_id = p_provider_task_id
    and provider_progress < least(greatest(p_progress, 0), 100)
  returning generation_id into run;
  if run is not null then
    perform engine.refresh_progress(run);
  end if;
  return run is not null;
end $$;
