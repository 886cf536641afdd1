-- Dispatch: pg_net posts {handler} to the function that owns newly due tasks, at most one
-- outstanding wake-up per function; the woken function claims every due task of its own.
begin;
select plan(9);

select tests.create_user('dispatch@test.local') as uid \gset
select tests.free_capacity();
update engine.wakeups set posted_at = null, consumed_at = null;
select coalesce(max(id), 0) as before from net.http_request_queue \gset
select tests.new_generation(:'uid') as gid \gset

select results_eq($$ select url, convert_from(body, 'UTF8')::jsonb, timeout_milliseconds, headers ->> 'Authorization' like 'Bearer ey%'
  from net.http_request_queue where id > $$ || :'before',
  $$ values ('http://127.0.0.1:54321/functions/v1/generate-script', '{"handler": "generate-script"}'::jsonb, 10000, true) $$,
  'create sends one wake-up to the owner of the first step, naming only the function, with a timeout and the service key');

-- A burst of creates while that wake-up is outstanding sends nothing more.
select tests.new_generation(tests.create_user('burst-' || i || '@test.local')) from generate_series(1, 20) i;
select is((select count(*)::int from net.http_request_queue where id > :before), 1,
  'a burst of 20 more creates adds no request while the first is unconsumed');
select engine.consume_wakeup('generate-script');
select is((select count(*)::int from engine.start_tasks('generate-script', 100)), 21, 'the woken function claims all 21 tasks');
select is((select count(*)::int from net.http_request_queue where id > :before), 1, 'a claim sends nothing');

select t.id as tid, t.lease_token as lease from engine.tasks t where t.generation_id = :'gid' and t.step = 'script' \gset
select engine.complete_task(:tid, :'lease', '{"script": {}}');
select is((select count(*)::int from net.http_request_queue where id > :before and url like '%/txt2img'), 1,
  'completing a task wakes the next step''s function once');

select * from tests.claim(:'gid', 'base_image') \gset d_
select engine.retry_task(:d_task_id, :'d_lease_token', 'SERVICE_UNAVAILABLE', 'slow down', 60000);
select is((select count(*)::int from net.http_request_queue where id > :before and url like '%/txt2img'), 1, 'a retry due later sends nothing now');
select ok((select next_attempt_at > now() + interval '59 seconds' from engine.tasks where id = :d_task_id),
  'the retry waits at least the provider''s Retry-After');

-- Time passes (triggers off: nothing happens but the clock): the retry becomes due;
-- reconcile wakes its function, once.
set local session_replication_role = replica;
update engine.tasks set next_attempt_at = now(), wake_at = now() where id = :d_task_id;
update engine.wakeups set consumed_at = clock_timestamp() where handler = 'txt2img';
set local session_replication_role = origin;
select engine.reconcile();
select is((select count(*)::int from net.http_request_queue where id > :before and url like '%/txt2img'), 2,
  'reconcile dispatches the retry once it is due');
select engine.reconcile();
select is((select count(*)::int from net.http_request_queue where id > :before and url like '%/txt2img'), 2,
  'a second reconcile does not dispatch it again');

select * from finish();
rollback;
