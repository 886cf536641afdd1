-- reconcile(): the guarantee behind pg_net and webhooks. Each part touches only due rows
-- through a partial index, so its cost follows due rows, not rows in flight.

create function public.reconcile() returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  timed_out integer; expired integer; redispatched integer; polls integer := 0;
  due_ids uuid[];
begin
  update public.generations g
  set status = 'failed', lease_token = null, lease_until = null, next_poll_at = null,
      error_code = 'TASK_FAILED',
      error_message = format('Generation did not finish before its deadline (step %s)', g.step)
  where g.id in (select id from public.generations
                 where status in ('queued', 'running', 'waiting') and deadline < now()
                 for update skip locked);
  get diagnostics timed_out = row_count;

  -- A crashed worker leaves an expired lease: run the step again, or give up.
  update public.generations g
  set status = case when g.attempt >= s.max_attempts then 'failed' else 'queued' end::public.generation_status,
      lease_token = null, lease_until = null, next_attempt_at = now(),
      error_code = case when g.attempt >= s.max_attempts then 'INTERNAL_ERROR' end,
      error_message = case when g.attempt >= s.max_attempts
        then format('Step %s did not finish after %s attempts', g.step, g.attempt) end
  from public.pipeline_steps s
  where g.id in (select id from public.generations
                 where status = 'running' and lease_until < now() for update skip locked)
    and s.pipeline = g.pipeline and s.step = g.step;
  get diagnostics expired = row_count;

  -- Due retries, and wake-ups that pg_net lost (not claimed 15 s after dispatch).
  update public.generations g
  set dispatched_at = now(), dispatch_count = g.dispatch_count + 1, wake_at = now() + interval '15 seconds'
  where g.id in (select id from public.generations where status = 'queued' and wake_at <= now()
                 for update skip locked);
  get diagnostics redispatched = row_count;

  -- Provider tasks whose poll is due: ask the poll function in batches of 50 ids.
  with due as (
    select id from public.generations
    where status = 'waiting' and next_poll_at <= now()
    for update skip locked
  ), bumped as (
    update public.generations g
    set poll_count = g.poll_count + 1,
        next_poll_at = now() + make_interval(secs => least(60, 5 * 2 ^ least(g.poll_count, 4)))
    from due where g.id = due.id
    returning g.id
  )
  select array_agg(id) into due_ids from bumped;
  if due_ids is not null then
    perform public.post_to_function('poll-task',
      jsonb_build_object('generation_ids', to_jsonb(due_ids[i:i + 49])))
    from generate_series(1, cardinality(due_ids), 50) as i;
    polls := cardinality(due_ids);
  end if;

  delete from net._http_response where created < now() - interval '1 hour';
  if to_regclass('cron.job_run_details') is not null then
    execute 'delete from cron.job_run_details where end_time < now() - interval ''1 day''';
  end if;

  return jsonb_build_object('timed_out', timed_out, 'expired_leases', expired,
    'dispatched', redispatched, 'polls', polls);
end $$;

-- pg_cron >= 1.5 takes second schedules; older ones (Debian's 1.4) only minutes, so there
-- one job per minute runs reconcile six times, ten seconds apart, committing each time.
-- (A procedure that commits may not be security definer nor set search_path; it runs as
-- the cron job's owner and names everything in full.)
create procedure public.reconcile_every_10_seconds_for_a_minute()
language plpgsql as $$
begin
  for i in 1..6 loop
    perform public.reconcile();
    commit;
    if i < 6 then
      perform pg_sleep(10);
    end if;
  end loop;
end $$;

do $$
declare
  version text := (select extversion from pg_extension where extname = 'pg_cron');
begin
  if version is null then
    raise notice 'pg_cron is not enabled: schedule public.reconcile() every 10 seconds yourself';
  elsif string_to_array(split_part(version, '-', 1), '.')::int[] >= array[1, 5] then
    perform cron.schedule('reelforge-reconcile', '10 seconds', 'select public.reconcile()');
  else
    perform cron.schedule('reelforge-reconcile', '* * * * *',
      'call public.reconcile_every_10_seconds_for_a_minute()');
  end if;
end $$;
