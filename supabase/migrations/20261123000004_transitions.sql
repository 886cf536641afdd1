-- What happens around every transition, whoever makes it: the database refuses illegal
-- ones, logs and broadcasts them, wakes the function that owns newly ready tasks, moves
-- the graph on when a task completes, fails the run when a task fails, and settles credits.

create function engine.settings() returns engine.settings
language sql stable security definer set search_path = '' as $$ select * from engine.settings $$;

-- Dispatch: pg_net wakes the function that owns ready tasks. The body names only the
-- function: it claims every due task of its own. pg_net is a wake-up; reconcile is the guarantee.
create function engine.functions_endpoint(p_function text, out url text, out headers jsonb)
language sql stable security definer set search_path = '' as $$
  select
    (select decrypted_secret from vault.decrypted_secrets where name = 'functions_url')
      || '/' || p_function,
    jsonb_build_object(
      'Content-Type', 'application/json',
      'Authorization', 'Bearer ' ||
        (select decrypted_secret from vault.decrypted_secrets where name = 'service_role_key'))
$$;

create function engine.post_to_function(p_function text, p_body jsonb) returns bigint
language plpgsql security definer set search_path = '' as $$
declare
  target record := engine.functions_endpoint(p_function);
begin
  if target.url is null then
    raise exception 'vault secrets functions_url and service_role_key must be set';
  end if;
  return net.http_post(url := target.url, body := p_body, headers := target.headers,
                       timeout_milliseconds := 10000);
end $$;

-- At most one outstanding wake-up per function (re-sent after wake_coalesce). Never waits
-- for a lock: whoever holds the row is posting or consuming a wake-up right now. Workers
-- (long-running processes that listen, such as the media worker) get a NOTIFY instead.
create function engine.wake(p_handler text) returns void
language plpgsql security definer set search_path = '' as $$
begin
  insert into engine.wakeups (handler) values (p_handler) on conflict do nothing;
  perform 1 from engine.wakeups w
  where w.handler = p_handler
    and (w.posted_at is null or w.consumed_at >= w.posted_at
         or w.posted_at < clock_timestamp() - (engine.settings()).wake_coalesce)
  for update skip locked;
  if found then
    update engine.wakeups set posted_at = clock_timestamp() where handler = p_handler;
    if exists (select 1 from engine.flow_steps where handler = p_handler and runs_on = 'worker') then
      perform pg_notify('engine_wake', p_handler);
    else
      perform engine.post_to_function(p_handler, jsonb_build_object('handler', p_handler));
    end if;
  end if;
end $$;

-- Tasks ---------------------------------------------------------------------------------

create function engine.guard_task() returns trigger
language plpgsql set search_path = '' as $$
declare
  legal boolean;
begin
  if new.generation_id <> old.generation_id or new.step <> old.step or new.task_index <> old.task_index then
    raise exception using errcode = 'RF409', message = 'A task''s run, step and index never change';
  end if;
  if old.status in ('completed', 'canceled') then
    raise exception using errcode = 'RF409',
      message = format('Task %s (%s) is %s and cannot change', old.id, old.step, old.status);
  end if;
  legal := case old.status
    when 'queued' then new.status in ('queued', 'running', 'failed', 'canceled')
    when 'running' then new.status in ('running', 'queued', 'waiting', 'completed', 'failed', 'canceled')
    when 'waiting' then new.status in ('waiting', 'completed', 'failed', 'canceled')
    when 'failed' then new.status in ('failed', 'queued')
    else false
  end;
  if not legal then
    raise exception using errcode = 'RF409',
      message = format('Task %s (%s) cannot go from %s to %s', old.id, old.step, old.status, new.status);
  end if;

  -- A failed task gives back its capture (metering: the user pays for work that worked), and
  -- so does one answered from the media cache (no provider work was done).
  if old.charged_round is not null
     and ((new.status = 'failed' and old.status <> 'failed')
          or (new.status = 'completed' and new.output ->> 'cached' = 'true')) then
    perform engine.refund_task(old);
    new.charged_round := null;
  end if;

  -- Dispatch bookkeeping: a task becoming due is dispatched now, and reconcile looks again
  -- after redispatch_after in case the wake-up is lost; one due later waits for reconcile.
  if new.status <> 'queued' then
    new.wake_at := null;
    new.blocked_on := null;
  elsif old.status <> 'queued' or new.next_attempt_at <> old.next_attempt_at then
    if new.next_attempt_at <= now() then
      new.dispatch_count := old.dispatch_count + 1;
      new.wake_at := now() + (engine.settings()).redispatch_after;
    else
      new.wake_at := new.next_attempt_at;
    end if;
  end if;
  new.updated_at := now();
  return new;
end $$;

create trigger tasks_guard before update on engine.tasks
  for each row execute function engine.guard_task();

-- Whether a dependency holds for a run: a conditional one only when its input is present.
create function engine.dep_applies(p_dep engine.flow_deps, p_inputs jsonb) returns boolean
language sql immutable set search_path = '' as $$
  select p_dep.run_if_input is null or nullif(p_inputs ->> p_dep.run_if_input, '') is not null
$$;

-- A task's own progress: done 100, a provider task its reported percent, else 0.
create function engine.task_progress(p_status public.task_status, p_provider_progress smallint)
returns smallint language sql immutable set search_path = '' as $$
  select case p_status when 'completed' then 100 when 'waiting' then p_provider_progress else 0 end::smallint
$$;

-- Events and broadcasts for every task that appeared or changed status or attempt, and one
-- wake-up per function that owns a newly due task. Statement-level: a batch is one pass.
-- (Transition tables have no statistics: without a hash join, a reconcile that re-queues 10k
-- tasks would compare every old row with every new one.)
create function engine.tasks_changed() returns trigger
language plpgsql security definer set search_path = '' set enable_nestloop = off as $$
declare
  h text;
begin
  insert into public.generation_events (generation_id, user_id, step, task_index, status, attempt, progress, message)
  select n.generation_id, n.user_id, n.step, n.task_index, n.status::text, n.attempt,
         engine.task_progress(n.status, n.provider_progress),
         case when n.status in ('failed', 'queued', 'canceled') then n.error_message end
  from new_tasks n join old_tasks o on o.id = n.id
  where o.status <> n.status or o.attempt <> n.attempt;
  perform realtime.send(
            jsonb_build_object('generation_id', n.generation_id, 'step', n.step, 'index', n.task_index,
                               'status', n.status, 'attempt', n.attempt,
                               'progress', engine.task_progress(n.status, n.provider_progress)),
            'task_update', 'generations:' || n.user_id::text, true)
  from new_tasks n join old_tasks o on o.id = n.id
  where o.status <> n.status or o.attempt <> n.attempt;

  for h in
    select distinct n.handler from new_tasks n join old_tasks o on o.id = n.id
    where n.status = 'queued' and n.dispatch_count > o.dispatch_count
    order by 1
  loop
    perform engine.wake(h);
  end loop;
  return null;
end $$;

-- INSERT statements have no old table: an empty one stands in.
create function engine.tasks_inserted() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  h text;
begin
  insert into public.generation_events (generation_id, user_id, step, task_index, status, attempt, progress)
  select n.generation_id, n.user_id, n.step, n.task_index, n.status::text, n.attempt, 0 from new_tasks n;
  perform realtime.send(
            jsonb_build_object('generation_id', n.generation_id, 'step', n.step, 'index', n.task_index,
                               'status', n.status, 'attempt', n.attempt, 'progress', 0),
            'task_update', 'generations:' || n.user_id::text, true)
  from new_tasks n;
  for h in select distinct n.handler from new_tasks n where n.status = 'queued' and n.dispatch_count > 0 order by 1 loop
    perform engine.wake(h);
  end loop;
  return null;
end $$;

create trigger tasks_inserted after insert on engine.tasks
  referencing new table as new_tasks for each statement execute function engine.tasks_inserted();
create trigger tasks_changed after update on engine.tasks
  referencing old table as old_tasks new table as new_tasks
  for each statement execute function engine.tasks_changed();

-- The graph -----------------------------------------------------------------------------

-- Recomputes the run's weighted progress: finished steps count whole, started ones by their
-- tasks (a waiting task by the provider's own percent). It never moves backwards.
create function engine.refresh_progress(p_generation_id uuid) returns void
language plpgsql security definer set search_path = '' as $$
begin
  update public.generations g
  set progress = greatest(g.progress, least(99, p.done * 100 / nullif(p.total, 0)))
  from (
    select sum(f.weight)::numeric as total,
           sum(case
                 when s.status in ('completed', 'skipped') then f.weight
                 when s.status = 'started' then f.weight * coalesce((
                   select sum(engine.task_progress(t.status, t.provider_progress)) from engine.tasks t
                   where t.generation_id = s.generation_id and t.step = s.step), 0) / (100.0 * s.task_count)
                 else 0 end) as done
    from engine.step_states s
    join public.generations r on r.id = s.generation_id
    join engine.flow_steps f on f.pipeline = r.pipeline and f.step = s.step
    where s.generation_id = p_generation_id
  ) p
  where g.id = p_generation_id and g.status = 'running' and g.progress < least(99, p.done * 100 / nullif(p.total, 0));
end $$;

-- A run with no step left completes (only a running one: a failed run completes on its retry).
create function engine.complete_run(p_generation_id uuid) returns void
language sql security definer set search_path = '' as $$
  update public.generations set status = 'completed', progress = 100, completed_at = now()
  where id = p_generation_id and status = 'running'
$$;

-- A step is done (completed with its output, or skipped): its dependents have one
-- dependency less, its output may be published, and the run completes when nothing remains.
create function engine.finish_step(p_generation_id uuid, p_step text, p_status text, p_output jsonb)
returns void
language plpgsql security definer set search_path = '' as $$
declare
  publish boolean;
  left_steps integer;
begin
  update engine.step_states set status = p_status, output = p_output, remaining_tasks = 0
  where generation_id = p_generation_id and step = p_step;

  update engine.step_states s set remaining_deps = s.remaining_deps - 1
  from public.generations g, engine.flow_deps d
  where g.id = p_generation_id and d.pipeline = g.pipeline and d.depends_on = p_step
    and engine.dep_applies(d, g.inputs)
    and s.generation_id = p_generation_id and s.step = d.step;

  select f.publish_output into publish
  from engine.flow_steps f join public.generations g on g.pipeline = f.pipeline
  where g.id = p_generation_id and f.step = p_step;

  update public.generations g
  set remaining_steps = g.remaining_steps - 1,
      outputs = case when publish and jsonb_typeof(p_output) = 'object' then g.outputs || p_output else g.outputs end
  where g.id = p_generation_id
  returning remaining_steps into left_steps;

  if left_steps = 0 then
    perform engine.complete_run(p_generation_id);
  end if;
end $$;

-- Inserts a step's tasks from index p_first on, one per element (a single step: '[null]'),
-- each priced from the run's plan and dispatched at once.
create function engine.insert_tasks(p_run public.generations, p_step engine.flow_steps, p_elements jsonb,
  p_first integer) returns void
language sql security definer set search_path = '' as $$
  insert into engine.tasks (generation_id, user_id, pipeline, step, task_index, handler, capacity_key,
                            element, price, dispatch_count, wake_at)
  select p_run.id, p_run.user_id, p_run.pipeline, p_step.step, p_first + e.ord::integer - 1, p_step.handler,
         p_step.capacity_key, case when p_step.kind = 'map' then e.value end,
         coalesce((p_run.price_plan ->> (p_step.step || ':' || (p_first + e.ord - 1)))::integer, 0),
         1, now() + (engine.settings()).redispatch_after
  from jsonb_array_elements(p_elements) with ordinality as e (value, ord)
$$;

-- Starts every step whose dependencies are done: a single step gets one task, a map step
-- one per element (none: it completes at once with []), a step whose condition fails is
-- skipped. A map that others map over element by element starts them too (their tasks
-- come as its tasks complete). Repeats until nothing more is ready (skips and empty maps
-- free their dependents).
create function engine.start_ready_steps(p_generation_id uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
  run public.generations;
  s engine.flow_steps;
  elements jsonb;
  n integer;
  progressed boolean := true;
begin
  select * into run from public.generations where id = p_generation_id;
  while progressed loop
    progressed := false;
    for s in
      select f.* from engine.step_states ss
      join engine.flow_steps f on f.pipeline = run.pipeline and f.step = ss.step
      where ss.generation_id = p_generation_id and ss.status = 'waiting' and ss.remaining_deps = 0
      order by ss.step
      for update of ss
    loop
      progressed := true;
      if s.run_if_input is not null and nullif(run.inputs ->> s.run_if_input, '') is null then
        perform engine.finish_step(p_generation_id, s.step, 'skipped', null);
        continue;
      end if;
      if s.kind = 'map' then
        elements := case when s.map_over like 'inputs.%' then run.inputs -> substr(s.map_over, 8)
                         else (select output from engine.step_states
                               where generation_id = p_generation_id and step = s.map_over) end;
        if jsonb_typeof(elements) is distinct from 'array' then
          raise exception using errcode = 'RF500',
            message = format('Map step %s needs an array from %s', s.step, s.map_over);
        end if;
      else
        elements := '[null]';
      end if;
      n := jsonb_array_length(elements);
      if n = 0 then
        perform engine.finish_step(p_generation_id, s.step, 'completed', '[]'::jsonb);
        continue;
      end if;
      update engine.step_states ss set status = 'started', task_count = n, remaining_tasks = n
      from engine.flow_steps f
      where ss.generation_id = p_generation_id and ss.step = f.step and f.pipeline = run.pipeline
        and (f.step = s.step or (f.map_over = s.step and f.starts_per_element and s.kind = 'map'));
      perform engine.insert_tasks(run, s, elements, 0);
      update public.generations set step = s.step where id = p_generation_id;
    end loop;
  end loop;
end $$;

-- A completed task: its step has one task less; the last one finishes the step (a map's
-- output is its tasks' outputs in index order) and starts what became ready. Steps that
-- map over this one element by element get their task for this element now.
create function engine.task_completed() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  left_tasks integer;
  step_kind text;
  run public.generations;
  s engine.flow_steps;
begin
  update engine.step_states set remaining_tasks = remaining_tasks - 1
  where generation_id = new.generation_id and step = new.step
  returning remaining_tasks into left_tasks;
  if left_tasks = 0 then
    select kind into step_kind from engine.flow_steps where pipeline = new.pipeline and step = new.step;
    perform engine.finish_step(new.generation_id, new.step, 'completed',
      case when step_kind = 'map' then (select jsonb_agg(t.output order by t.task_index) from engine.tasks t
                                        where t.generation_id = new.generation_id and t.step = new.step)
           else new.output end);
    perform engine.start_ready_steps(new.generation_id);
  end if;
  for s in
    select f.* from engine.flow_steps f
    where f.pipeline = new.pipeline and f.map_over = new.step and f.starts_per_element
  loop
    if run.id is null then
      select * into run from public.generations where id = new.generation_id;
    end if;
    perform engine.insert_tasks(run, s, jsonb_build_array(new.output), new.task_index);
  end loop;
  perform engine.refresh_progress(new.generation_id);
  return null;
end $$;

create trigger tasks_completed after update of status on engine.tasks
  for each row when (new.status = 'completed' and old.status <> 'completed')
  execute function engine.task_completed();

-- A failed task fails its run (the first failure names it). The run's other tasks keep
-- their work for a retry.
create function engine.task_failed() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  update public.generations
  set status = 'failed', step = new.step, error_code = new.error_code, error_message = new.error_message
  where id = new.generation_id and status = 'running';
  return null;
end $$;

create trigger tasks_failed after update of status on engine.tasks
  for each row when (new.status = 'failed' and old.status <> 'failed')
  execute function engine.task_failed();

-- Generations ---------------------------------------------------------------------------

create function public.guard_generation_transition() returns trigger
language plpgsql set search_path = '' as $$
declare
  legal boolean;
begin
  if new.user_id <> old.user_id or new.pipeline <> old.pipeline or new.id <> old.id then
    raise exception using errcode = 'RF409', message = 'A generation''s owner and pipeline never change';
  end if;
  if old.status = 'canceled' then
    raise exception using errcode = 'RF409',
      message = format('Generation %s is %s and cannot change', old.id, old.status);
  end if;
  legal := case old.status
    when 'completed' then new.status in ('completed', 'queued')  -- reopened to re-run some tasks
    when 'queued' then new.status in ('queued', 'running', 'canceled')
    when 'running' then new.status in ('running', 'completed', 'failed', 'canceled')
    when 'failed' then new.status in ('failed', 'queued', 'running')
    else false
  end;
  if not legal then
    raise exception using errcode = 'RF409',
      message = format('Generation %s cannot go from %s to %s', old.id, old.status, new.status);
  end if;
  new.updated_at := now();
  return new;
end $$;

create trigger generations_guard before update on public.generations
  for each row execute function public.guard_generation_transition();

-- The run's status changes are logged and broadcast; progress is broadcast.
create function public.broadcast_generation() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'UPDATE' and new.status = old.status and new.progress = old.progress then
    return null;
  end if;
  if tg_op = 'INSERT' or new.status <> old.status then
    insert into public.generation_events (generation_id, user_id, status, progress, message)
    values (new.id, new.user_id, new.status::text, new.progress,
            case when new.status in ('failed', 'canceled') then new.error_message end);
  end if;
  perform realtime.send(
    jsonb_build_object('id', new.id, 'status', new.status, 'step', new.step,
      'progress', new.progress, 'error_code', new.error_code, 'error_message', new.error_message),
    'generation_update', 'generations:' || new.user_id::text, true);
  return null;
end $$;

create trigger generations_broadcast after insert or update on public.generations
  for each row execute function public.broadcast_generation();

-- A run that ends: canceled stops its unfinished tasks (started ones stay charged), the
-- round's unused reservation is released, and the owner's next queued run is admitted.
create function engine.generation_ended() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.status = 'canceled' then
    update engine.tasks set status = 'canceled', lease_token = null, lease_until = null,
                            next_poll_at = null, error_message = 'Canceled by the user'
    where generation_id = new.id and status in ('queued', 'running', 'waiting', 'failed');
  end if;
  perform engine.release_round(new.id);
  perform engine.admit(new.user_id);
  return null;
end $$;

create trigger generations_ended after update of status on public.generations
  for each row when (new.status in ('completed', 'failed', 'canceled') and old.status not in ('completed', 'failed', 'canceled'))
  execute function engine.generation_ended();
