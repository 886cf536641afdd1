-- Claims cost the same however much is in flight (issue 28: 13 ms with nothing in flight,
-- 150 ms at 100k, 0.5-0.9 s once PostgreSQL's JIT compiled the plan): a user's work in flight
-- is counted once per claim, up to a cap, from an index of in-flight tasks by user; a
-- provider's free slots are counted up to its limit; the engine's functions never JIT.

create index tasks_user_in_flight_idx on engine.tasks (user_id, handler) where status in ('running', 'waiting');

create or replace function engine.start_tasks(p_handler text, p_limit integer default 10)
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
    with candidates as (
      select t.id, f.capacity_key as primary_key, f.fallback_capacity_key as fallback_key, t.user_id,
             row_number() over (partition by t.user_id order by t.id) as user_rank
      from engine.tasks t
      join public.generations g on g.id = t.generation_id and g.status = 'running'
      join engine.flow_steps f on f.pipeline = t.pipeline and f.step = t.step
      where t.handler = p_handler and t.status = 'queued'
        and (t.next_attempt_at <= now() or t.blocked_on is not null)
      order by t.next_attempt_at limit 500
    ), load as (
      -- Each candidate user's work in flight, counted once per claim and only up to a cap
      -- (fairness needs to tell 0 from 1 from a few, not 50k from 100k): the claim costs the
      -- same however much is in flight.
      select u.user_id,
             (select count(*) from (select 1 from engine.tasks b
                                    where b.user_id = u.user_id and b.handler = p_handler
                                      and b.status in ('running', 'waiting')
                                    limit 50) x) as in_flight
      from (select distinct c2.user_id from candidates c2) u
    )
    select r.id, r.primary_key, r.fallback_key
    from candidates r join load l on l.user_id = r.user_id
    order by r.user_rank, l.in_flight, r.id
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

-- Free slots of a provider endpoint: its in-flight tasks are counted up to its limit only.
create or replace function engine.capacity_available(p_key text) returns integer
language plpgsql security definer set search_path = '' as $$
declare
  cap engine.provider_capacity;
  scale numeric := (engine.settings()).capacity_scale;
  free integer := 2147483647;
  slots integer;
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
    slots := floor(cap.max_in_flight * scale)::integer;
    free := least(free, slots - (select count(*)::integer from (select 1 from engine.tasks t
                                   where t.capacity_key = p_key and t.status in ('running', 'waiting')
                                   limit greatest(slots, 0)) x));
  end if;
  return greatest(free, 0);
end $$;

-- JIT compiles a plan for seconds of work; the engine's statements take milliseconds.
do $$
declare
  f regprocedure;
begin
  for f in select p.oid::regprocedure from pg_proc p join pg_namespace n on n.oid = p.pronamespace
           where n.nspname = 'engine' and p.prokind = 'f'
  loop
    execute format('alter function %s set jit = off', f);
  end loop;
end $$;
