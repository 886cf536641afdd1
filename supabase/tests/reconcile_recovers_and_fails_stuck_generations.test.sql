begin;
select plan(11);

select tests.create_user('reconcile@test.local', 1000) as uid \gset
select coalesce(max(id), 0) as before from net.http_request_queue \gset

-- A crashed worker: its lease expired. Reconcile re-queues and re-dispatches the step.
select tests.new_generation(:'uid') as crashed \gset
select * from public.claim_step(:'crashed', 'script') \gset c_
update public.generations set lease_until = now() - interval '1 second' where id = :'crashed';
select public.reconcile();
select is((select status::text from public.generations where id = :'crashed'), 'queued', 'an expired lease is re-queued');
select is((select count(*)::int from net.http_request_queue where id > :before and url like '%/generate-script'
  and convert_from(body, 'UTF8')::jsonb ->> 'generation_id' = :'crashed'), 2, 'and its step is dispatched again');
select ok(not public.complete_step(:'crashed', :'c_lease_token', '{}', 'base_image'), 'the crashed worker''s late commit changes nothing');

-- A step that keeps crashing gives up after its attempts, with a clear error and a refund.
update public.generations set status = 'running', attempt = 4, lease_token = gen_random_uuid(), lease_until = now() - interval '1 second'
  where id = :'crashed';
select public.reconcile();
select results_eq($$ select status::text, error_code from public.generations where id = '$$ || :'crashed' || $$' $$,
  $$ values ('failed', 'INTERNAL_ERROR') $$, 'after max attempts the generation fails');

-- Past its deadline: failed with a refund, wherever it was.
select tests.new_generation(:'uid') as late \gset
update public.generations set deadline = now() - interval '1 second' where id = :'late';
select public.reconcile();
select results_eq($$ select status::text, error_code from public.generations where id = '$$ || :'late' || $$' $$,
  $$ values ('failed', 'TASK_FAILED') $$, 'a generation past its deadline fails');
select is((select count(*)::int from public.credit_ledger where generation_id = :'late' and kind = 'release'), 1, 'and is refunded once');
select is((select balance from public.credit_accounts where user_id = :'uid'), 1000::bigint, 'the balance is whole again');

-- A lost wake-up: queued, dispatched long ago, never claimed.
select tests.new_generation(:'uid') as lost \gset
update public.generations set wake_at = now() - interval '1 second' where id = :'lost';
select public.reconcile();
select is((select count(*)::int from net.http_request_queue where id > :before
  and convert_from(body, 'UTF8')::jsonb ->> 'generation_id' = :'lost'), 2, 'a lost wake-up is sent again');

-- Due provider polls go to the poll function in one batch; polls not yet due wait.
select tests.new_generation(:'uid') as waiting \gset
select * from public.claim_step(:'waiting', 'script') \gset w_
update public.generations set status = 'waiting', step = 'script', provider_task_id = 't-1', lease_token = null, lease_until = null,
  next_poll_at = now() - interval '1 second' where id = :'waiting';
select public.reconcile();
select is((select count(*)::int from net.http_request_queue where id > :before and url like '%/poll-task'
  and convert_from(body, 'UTF8')::jsonb -> 'generation_ids' ? :'waiting'), 1, 'a due poll is sent to poll-task');
select ok((select next_poll_at > now() from public.generations where id = :'waiting'), 'the next poll is scheduled later');
select public.reconcile();
select is((select count(*)::int from net.http_request_queue where id > :before and url like '%/poll-task'), 1,
  'a poll that is not due is not sent');

select * from finish();
rollback;
