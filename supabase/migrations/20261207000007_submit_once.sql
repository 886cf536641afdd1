-- A paid submission is sent at most once. The chaos run found a Kling task submitted twice:
-- the functions process died after the provider accepted the task and before
-- await_provider committed its id, so the expired lease re-queued the task and the next
-- attempt paid again. Now the claim that is about to submit says so first (committed
-- before the request leaves), and a claim that dies after saying so is never sent again:
-- - its provider task id is known (a callback named it while the claim was alive): it waits
--   on that task, polled as usual;
-- - the provider calls back with the task's token (Novita, kie): it waits, and the first
--   callback names the provider task (webhook_task), which is then fetched and
--   checked like any other; if no callback comes within submission_adopt_window (a
--   provider calls back when its task ends, so the window outlasts its longest task), it
--   fails and is refunded;
-- - the provider never calls back (Volcengine's Jimeng and OmniHuman are poll-only): it
--   fails and is refunded.

-- The lease of the claim that began a paid submission (a new claim has a new lease), and the
-- provider it was sent to (`provider` stays the provider of a task known to be in flight).
alter table engine.tasks add column submit_lease uuid, add column submit_provider text;
alter table engine.settings add column submission_adopt_window interval not null default '15 minutes';
create index tasks_adopting_idx on engine.tasks (waiting_since) where status = 'waiting' and provider_task_id is null;
alter table engine.tasks drop constraint tasks_check1;
alter table engine.tasks add constraint tasks_waiting_has_provider_task
  check (status <> 'waiting' or provider_task_id is not null or submit_lease is not null);

-- Providers that call back with the task's webhook token.
create function engine.provider_calls_back(p_provider text) returns boolean
language sql immutable set search_path = '' as $$
  select p_provider in ('novita', 'kie')
$$;

-- Called by a handler right before it sends a paid submission; false when the claim is no
-- longer ours (then nothing is sent).
create function engine.begin_submission(p_task_id bigint, p_lease_token uuid, p_provider text)
returns boolean
language sql security definer set search_path = '' as $$
  update engine.tasks
  set submit_lease = p_lease_token, submit_provider = p_provider, provider_task_id = null
  where id = p_task_id and status = 'running' and lease_token = p_lease_token
  returning true
$$;

-- The waiting task behind a webhook token, if a re-check is allowed now (throttled), in one
-- round trip with the adoption: a callback that names the provider task of a submission whose
-- answer we may not have seen (the token in the callback URL is the task's secret) records it
-- first. An adopted task that still runs under its dead lease is answered nothing here: the
-- reconcile makes it wait on that provider task.
drop function engine.webhook_task(text);
create function engine.webhook_task(p_webhook_token text, p_provider text, p_provider_task_id text)
returns table (task_id bigint, provider text, provider_task_id text)
language plpgsql security definer set search_path = '' as $$
begin
  update engine.tasks t
  set provider = p_provider, provider_task_id = p_provider_task_id,
      next_poll_at = case when t.status = 'waiting' then now() else t.next_poll_at end
  where t.webhook_token = p_webhook_token and t.submit_provider = p_provider and t.provider_task_id is null
    and t.submit_lease is not null and t.status in ('running', 'waiting');
  return query
  update engine.tasks t set checked_at = now()
  where t.webhook_token = p_webhook_token and t.status = 'waiting'
    and (t.checked_at is null or t.checked_at < now() - (engine.settings()).webhook_recheck_interval)
  returning t.id, t.provider, t.provider_task_id;
end $$;

create or replace function engine.reconcile() returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  cfg engine.settings := engine.settings();
  timed_out integer; expired integer; interrupted integer; redispatched integer; admitted integer := 0;
  polls integer := 0; estimated integer;
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

  -- A dead worker that had begun a paid submission: never sent again (see the top of this file).
  update engine.tasks t
  set status = case when d.lost then 'failed' else 'waiting' end::public.task_status,
      provider = t.submit_provider, lease_token = null, lease_until = null, poll_count = 0, waiting_since = now(),
      next_poll_at = case when t.provider_task_id is not null then now() end,
      error_code = case when d.lost then 'TASK_FAILED' end,
      error_message = case when d.lost
        then format('Step %s was interrupted while submitting to %s; it was not sent again, and nothing is charged for it',
                    t.step, t.submit_provider) end
  -- lost: no provider task id, and no callback will name it.
  from (select id, provider_task_id is null and not engine.provider_calls_back(submit_provider) as lost
        from engine.tasks where status = 'running' and lease_until < now() and submit_lease = lease_token
        for update skip locked) d
  where t.id = d.id;
  get diagnostics interrupted = row_count;

  -- ... and one that no callback named in time: no task to wait on; refunded.
  update engine.tasks t
  set status = 'failed', next_poll_at = null, error_code = 'TASK_FAILED',
      error_message = format('Step %s was interrupted while submitting to %s, which never named the task; it was not sent again, and nothing is charged for it',
                             t.step, t.provider)
  where t.id in (select id from engine.tasks where status = 'waiting' and provider_task_id is null
                   and waiting_since < now() - cfg.submission_adopt_window
                 for update skip locked);

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

  return jsonb_build_object('timed_out', timed_out, 'expired_leases', expired + interrupted,
    'interrupted_submissions', interrupted, 'dispatched', redispatched, 'admitted', admitted, 'polls', polls,
    'estimated', estimated);
end $$;
