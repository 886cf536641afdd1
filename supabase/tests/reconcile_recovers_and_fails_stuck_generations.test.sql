begin;
select plan(11);

select tests.create_user('reconcile@test.local', 1000) as uid \gset
update engine.wakeups set posted_at = null, consumed_at = null;
select coalesce(max(id), 0) as before from net.http_request_queue \gset

-- A crashed worker: its lease expired (leases are short and renewed by heartbeats).
-- Reconcile re-queues the task and wakes its function again.
select tests.new_generation(:'uid') as crashed \gset
select engine.consume_wakeup('generate-script');
select * from tests.claim(:'crashed', 'script') \gset c_
update engine.tasks set lease_until = now() - interval '1 second' where id = :c_task_id;
select engine.reconcile();
select is((tests.task(:'crashed', 'script')).status::text, 'queued', 'an expired lease is re-queued');
select is((select count(*)::int from net.http_request_queue where id > :before and url like '%/generate-script'), 2,
  'and its function is woken again');
select ok(not engine.complete_task(:c_task_id, :'c_lease_token', '{}'), 'the crashed worker''s late commit changes nothing');

-- A task that keeps crashing gives up after its attempts, with a clear error and a refund.
update engine.tasks set status = 'running', attempt = 4, lease_token = gen_random_uuid(), lease_until = now() - interval '1 second'
  where id = :c_task_id;
select engine.reconcile();
select results_eq($$ select status::text, error_code from public.generations where id = '$$ || :'crashed' || $$' $$,
  $$ values ('failed', 'INTERNAL_ERROR') $$, 'after max attempts the generation fails');

-- Past its deadline: failed, with everything given back, wherever it was.
select tests.new_generation(:'uid') as late \gset
update public.generations set deadline = now() - interval '1 second' where id = :'late';
select engine.reconcile();
select results_eq($$ select status::text, error_code from public.generations where id = '$$ || :'late' || $$' $$,
  $$ values ('failed', 'TASK_FAILED') $$, 'a generation past its deadline fails');
select is((select count(*)::int from public.credit_ledger where generation_id = :'late' and kind = 'release'), 1, 'and is released once');
select is((select balance from public.credit_accounts where user_id = :'uid'), 1000::bigint, 'the balance is whole again');

-- A lost wake-up: queued, dispatched long ago, never claimed.
select tests.new_generation(:'uid') as lost \gset
update engine.wakeups set consumed_at = clock_timestamp() where handler = 'generate-script';
update engine.tasks set wake_at = now() - interval '1 second' where generation_id = :'lost';
select engine.reconcile();
select is((select count(*)::int from net.http_request_queue where id > :before and url like '%/generate-script'), 3,
  'a lost wake-up is sent again');

-- Due provider polls go to the poll function in one batch; polls not yet due wait.
select tests.new_generation(:'uid') as waiting \gset
select * from tests.claim(:'waiting', 'script') \gset w_
select engine.await_provider(:w_task_id, :'w_lease_token', 'novita', 't-1');
update engine.tasks set next_poll_at = now() - interval '1 second' where id = :w_task_id;
select engine.reconcile();
select is((select count(*)::int from net.http_request_queue where id > :before and url like '%/poll-task'
  and convert_from(body, 'UTF8')::jsonb -> 'task_ids' @> to_jsonb(array[:w_task_id::bigint])), 1, 'a due poll is sent to poll-task');
select ok((select next_poll_at > now() from engine.tasks where id = :w_task_id), 'the next poll is scheduled later');
select engine.reconcile();
select is((select count(*)::int from net.http_request_queue where id > :before and url like '%/poll-task'
  and convert_from(body, 'UTF8')::jsonb -> 'task_ids' @> to_jsonb(array[:w_task_id::bigint])), 1, 'a poll that is not due is not sent');

select * from finish();
rollback;
