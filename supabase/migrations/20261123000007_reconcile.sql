-- engine.reconcile(): the guarantee behind pg_net and webhooks. Each part touches only due
-- rows through a partial index, so its cost follows due rows, not rows in flight.

-- Provider tasks whose poll is due go to the poll function in batches. Steps with a
-- poll_every (providers without webhooks) are polled at that pace, others back off
-- (first_poll_after doubling up to max_poll_interval). Runs every 2 seconds.
create function engine.dispatch_polls() returns integer
language plpgsql security definer set search_path = '' as $$
declare
  cfg engine.settings := engine.settings();
  due_ids bigint[];
begin
  with due as (
    select id from engine.tasks
    where status = 'waiting' and next_poll_at <= now()
    for update skip locked
  ), bumped as (
    update engine.tasks t
    set poll_count = t.poll_count + 1,
        next_poll_at = now() + coalesce(f.poll_every,
                                        least(cfg.max_poll_interval, cfg.first_poll_after * 2 ^ least(t.poll_count, 4)))
    from due, engine.flow_steps f
    where t.id = due.id and f.pipeline = t.pipeline and f.step = t.step
    returning t.id
  )
  select array_agg(id) into due_ids from bumped;
  if due_ids is null then
    return 0;
  end if;
  perform engine.post_to_function('poll-task',
    jsonb_build_object('task_ids', to_jsonb(due_ids[i:i + cfg.poll_batch_size - 1])))
  from generate_series(1, cardinality(due_ids), cfg.poll_batch_size) as i;
  return cardinality(due_ids);
end $$;

create function engine.reconcile() returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  cfg engine.settings := engine.settings();
  timed_out integer; expired integer; redispatched integer; admitted integer := 0; polls integer := 0;
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

  delete from net._http_response where created < now() - interval '1 hour';
  if to_regclass('cron.job_run_details') is not null then
    execute 'delete from cron.job_run_details where end_time < now() - interval ''1 day''';
  end if;

  return jsonb_build_object('timed_out', timed_out, 'expired_leases', expired,
    'dispatched', redispatched, 'admitted', admitted, 'polls', polls);
end $$;

-- Schedules: reconcile every 10 s, due polls every 2 s. pg_cron >= 1.5 (Supabase) takes second
-- schedules. Older ones (Debian's 1.4, the local stack) only minutes: there one job per
-- minute calls a procedure that ticks every 2 s for a minute, committing each time. That
-- procedure exists only there (a procedure that commits may not pin its search_path, so it
-- names everything in full).
do $$
declare
  version text := (select extversion from pg_extension where extname = 'pg_cron');
begin
  if version is null then
    raise notice 'pg_cron is not enabled: schedule engine.reconcile() every 10 s and engine.dispatch_polls() every 2 s yourself';
  elsif string_to_array(split_part(version, '-', 1), '.')::int[] >= array[1, 5] then
    perform cron.schedule('reelforge-reconcile', '10 seconds', 'select engine.reconcile()');
    perform cron.schedule('reelforge-polls', '2 seconds', 'select engine.dispatch_polls()');
  else
    create procedure engine.tick_every_2_seconds_for_a_minute()
    language plpgsql as $p$
    begin
      for i in 0..29 loop
        if i % 5 = 0 then
          perform engine.reconcile();
        else
          perform engine.dispatch_polls();
        end if;
        commit;
        if i < 29 then
          perform pg_sleep(2);
        end if;
      end loop;
    end $p$;
    revoke execute on procedure engine.tick_every_2_seconds_for_a_minute() from public;
    perform cron.schedule('reelforge-reconcile', '* * * * *',
      'call engine.tick_every_2_seconds_for_a_minute()');
  end if;
end $$;
