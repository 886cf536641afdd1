-- What clients see (the client-experience issue): one status vocabulary, progress that moves
-- while a provider works, a welcome grant, credits held per run, and pages of the gallery.

-- The API's status vocabulary: queued, processing, completed, failed, canceled (and skipped
-- for a step that does not apply). A run or task that is running, or waits for its provider,
-- is processing. The contracts' own vocabularies map from it (generation/status, MovieFlow).
create function app.api_status(p_status text) returns text
language sql immutable set search_path = '' as $$
  select case when p_status in ('running', 'waiting') then 'processing' else p_status end
$$;
grant execute on function app.api_status(text) to authenticated, service_role;

create or replace function public.broadcast_generation() returns trigger
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
    jsonb_build_object('id', new.id, 'status', app.api_status(new.status::text), 'step', new.step,
      'progress', new.progress, 'error_code', new.error_code, 'error_message', new.error_message),
    'generation_update', 'generations:' || new.user_id::text, true);
  return null;
end $$;

drop function app.generation_tasks(uuid);
create function app.generation_tasks(p_generation_id uuid)
returns table (step text, task_index integer, status text, attempt integer,
               waiting_for text, progress smallint, error_code text)
language sql stable security definer set search_path = '' as $$
  select t.step, t.task_index, app.api_status(t.status::text), t.attempt, t.blocked_on,
         engine.task_progress(t.status, t.provider_progress), t.error_code
  from engine.tasks t
  where t.generation_id = (app.owned_generation(p_generation_id)).id
  order by t.id
$$;
grant execute on function app.generation_tasks(uuid) to authenticated, service_role;

-- Progress while a provider works: most report no percent until they finish (Kling sat at
-- 55 % for its whole wait), so a waiting task's progress is also estimated from how long it
-- has waited against the step's typical wait, approaching 95 % and never passing it; a
-- provider's own larger percent wins. Reconcile (every 10 s) moves it.
alter table engine.flow_steps add column expected_wait interval;
alter table engine.tasks add column waiting_since timestamptz;
update engine.flow_steps set expected_wait = case
    when pipeline = 'cinematic' and step = 'video' then interval '150 seconds'
    when pipeline = 'model_direct' and step = 'video' then interval '240 seconds'
    when pipeline = 'movie' and step = 'segment' then interval '120 seconds'
  end
where step in ('video', 'segment');

create or replace function engine.await_provider(p_task_id bigint, p_lease_token uuid, p_provider text,
  p_provider_task_id text) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  update engine.tasks t
  set status = 'waiting', lease_token = null, lease_until = null, provider = p_provider,
      provider_task_id = p_provider_task_id, poll_count = 0, waiting_since = now(),
      next_poll_at = now() + coalesce(f.poll_every, (engine.settings()).first_poll_after)
  from engine.flow_steps f
  where t.id = p_task_id and t.status = 'running' and t.lease_token = p_lease_token
    and f.pipeline = t.pipeline and f.step = t.step;
  if found then
    perform engine.record_provider_outcome(p_task_id, true);
  end if;
  return found;
end $$;

create function engine.estimate_waits() returns integer
language plpgsql security definer set search_path = '' as $$
declare
  moved uuid[];
begin
  with estimate as (
    select t.id, least(95, floor(95 * (1 - exp(-extract(epoch from now() - t.waiting_since)
                                                / extract(epoch from f.expected_wait)))))::smallint as progress
    from engine.tasks t join engine.flow_steps f on f.pipeline = t.pipeline and f.step = t.step
    where t.status = 'waiting' and f.expected_wait is not null and t.waiting_since is not null
  ), bumped as (
    update engine.tasks t set provider_progress = e.progress
    from estimate e
    where t.id = e.id and e.progress > t.provider_progress
    returning t.generation_id
  )
  select array_agg(distinct generation_id) into moved from bumped;
  perform engine.refresh_progress(g) from unnest(moved) g;
  return coalesce(cardinality(moved), 0);
end $$;

create or replace function engine.reconcile() returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  cfg engine.settings := engine.settings();
  timed_out integer; expired integer; redispatched integer; admitted integer := 0; polls integer := 0; estimated integer;
  owner uuid;
begin
  -- Runs past their deadline: their unfinished tasks fail (refunded), which fails the run.
  update engine.tasks t
  set status = 'failed', lease_token = null, lease_until = null, next_poll_at = null,
      error_code = 'TASK_FAILED',
      error_message = format('Generation did not finish before its deadline (step %s)', t.step)
  where t.id in (select t2.id from engine.tasks t2
                 where t2.generation_id in (select g.id from public.generations g
                                            where g.status = 'running' and g.deadline < now())
                   and t2.status in ('queued', 'running', 'waiting')
                 for update of t2 skip locked);
  get diagnostics timed_out = row_count;

  -- A dead worker leaves an expired lease: run the task again, or give up.
  update engine.tasks t
  set status = case when t.attempt >= f.max_attempts then 'failed' else 'queued' end::public.task_status,
      lease_token = null, lease_until = null, next_attempt_at = now(),
      error_code = case when t.attempt >= f.max_attempts then 'INTERNAL_ERROR' end,
      error_message = case when t.attempt >= f.max_attempts
        then format('Step %s did not finish after %s attempts', t.step, t.attempt) end
  from engine.flow_steps f
  where t.id in (select id from engine.tasks where status = 'running' and lease_until < now()
                 for update skip locked)
    and f.pipeline = t.pipeline and f.step = t.step;
  get diagnostics expired = row_count;

  -- Due retries and capacity waits, and wake-ups that pg_net lost. Tasks of runs that are
  -- not running (failed, awaiting admission) sleep until a retry or admission wakes them.
  update engine.tasks t
  set dispatch_count = t.dispatch_count + case when g.status = 'running' then 1 else 0 end,
      wake_at = case when g.status = 'running' then now() + cfg.redispatch_after end
  from public.generations g
  where t.id in (select id from engine.tasks where status = 'queued' and wake_at <= now()
                 for update skip locked)
    and g.id = t.generation_id;
  get diagnostics redispatched = row_count;

  -- Owners with a free slot and queued runs (normally admitted as soon as a run ends).
  for owner in
    select distinct q.user_id from public.generations q where q.status = 'queued'
      and (select count(*) from public.generations r where r.user_id = q.user_id and r.status = 'running')
          < cfg.max_active_generations_per_user
    limit 100
  loop
    perform engine.admit(owner);
    admitted := admitted + 1;
  end loop;

  polls := engine.dispatch_polls();
  estimated := engine.estimate_waits();

  delete from net._http_response where created < now() - interval '1 hour';
  if to_regclass('cron.job_run_details') is not null then
    execute 'delete from cron.job_run_details where end_time < now() - interval ''1 day''';
  end if;

  return jsonb_build_object('timed_out', timed_out, 'expired_leases', expired,
    'dispatched', redispatched, 'admitted', admitted, 'polls', polls,
    'estimated', estimated);
end $$;

-- Credits: new users get a welcome grant (0 turns it off), and the ledger says why a grant was made.
alter table engine.settings add column welcome_credits integer not null default 500 check (welcome_credits >= 0);
alter table public.credit_ledger add column reason text;

create or replace function public.open_credit_account() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  welcome integer := (engine.settings()).welcome_credits;
begin
  insert into public.credit_accounts (user_id, balance) values (new.id, welcome) on conflict do nothing;
  if found and welcome > 0 then
    insert into public.credit_ledger (user_id, kind, amount, reason) values (new.id, 'grant', welcome, 'welcome');
  end if;
  return null;
end $$;

-- The public gallery in pages: newest first, a page after (completed_at, id) of the last one
-- (up to 100, and one more that tells whether another page follows).
drop function public.public_gallery(integer, timestamptz);
create function public.public_gallery(p_limit integer default 20, p_after_id uuid default null,
  p_pipeline public.pipeline_kind default null)
returns table (id uuid, pipeline public.pipeline_kind, video_path text, poster_path text, completed_at timestamptz)
language sql stable security definer set search_path = '' as $$
  select g.id, g.pipeline, g.outputs ->> 'video_path', g.outputs ->> 'poster_path', g.completed_at
  from public.generations g
  where g.visibility = 'public' and g.status = 'completed'
    and (p_pipeline is null or g.pipeline = p_pipeline)
    and (p_after_id is null or (g.completed_at, g.id) < (select a.completed_at, a.id from public.generations a
                                                         where a.id = p_after_id and a.visibility = 'public'))
  order by g.completed_at desc, g.id desc
  limit least(greatest(p_limit, 1), 101)
$$;
revoke execute on function public.public_gallery(integer, uuid, public.pipeline_kind) from public;
grant execute on function public.public_gallery(integer, uuid, public.pipeline_kind) to anon, authenticated, service_role;
-- Pages are ordered by (time, id): the indexes follow.
drop index public.generations_public_idx;
create index generations_public_idx on public.generations (completed_at desc, id desc)
  where visibility = 'public' and status = 'completed';
drop index public.generations_user_created_idx;
create index generations_user_created_idx on public.generations (user_id, created_at desc, id desc);

-- A completed movie reopened for some scenes is processing them (it showed "merging": the
-- step it ran last).
create or replace function app.retry_segments(p_generation_id uuid, p_indexes integer[]) returns public.generations
language plpgsql security definer set search_path = '' as $$
declare
  target public.generations := app.owned_generation(p_generation_id);
  states jsonb;
begin
  if target.pipeline <> 'movie' then
    raise exception using errcode = 'RF400', message = 'Only a movie''s segments can be retried';
  end if;
  select jsonb_object_agg(m.task_index, m.status) into states from app.movie_segments(target.id) m;
  if exists (select 1 from unnest(p_indexes) i where not states ? i::text) then
    raise exception using errcode = 'RF400', message = 'segmentIds names a scene this task does not have';
  end if;
  if target.status = 'failed' then
    if exists (select 1 from jsonb_each_text(states) e where e.value = 'failed' and e.key::integer <> all(p_indexes)) then
      raise exception using errcode = 'RF400',
        message = 'Other scenes failed too: name every failed scene in segmentIds';
    end if;
    if exists (select 1 from unnest(p_indexes) i where states ->> i::text <> 'failed') then
      raise exception using errcode = 'RF400',
        message = 'Only failed scenes of a failed task can be retried; retry the completed ones after it completes';
    end if;
    return app.retry_generation(target.id);
  elsif target.status = 'completed' then
    -- The run shows the step it reopens, not the merge it last ran.
    update public.generations set step = 'segment' where id = target.id;
    perform engine.reopen_tasks(target.id, 'segment', p_indexes);
    select * into target from public.generations where id = target.id;
    return target;
  end if;
  raise exception using errcode = 'RF400',
    message = format('Only a failed or completed task can be retried; this one is %s', target.status);
end $$;
