begin;
select plan(9);

select tests.create_user('dispatch@test.local') as uid \gset
select coalesce(max(id), 0) as before from net.http_request_queue \gset
select tests.new_generation(:'uid') as gid \gset

select results_eq($$ select url, convert_from(body, 'UTF8')::jsonb, timeout_milliseconds, headers ->> 'Authorization' like 'Bearer ey%'
  from net.http_request_queue where id > $$ || :'before',
  format($$ values ('http://127.0.0.1:54321/functions/v1/generate-script',
    '{"step": "script", "generation_id": "%s"}'::jsonb, 10000, true) $$, :'gid'),
  'create sends one wake-up to the owner of the first step, ids only, with a timeout and the service key');

select * from public.claim_step(:'gid', 'script') \gset c_
select is((select count(*)::int from net.http_request_queue where id > :before), 1, 'a claim sends nothing');
select public.complete_step(:'gid', :'c_lease_token', '{}', 'base_image');
select is((select count(*)::int from net.http_request_queue where id > :before and url like '%/txt2img'), 1,
  'completing a step wakes the next step''s function once');

select * from public.claim_step(:'gid', 'base_image') \gset d_
select public.schedule_retry(:'gid', :'d_lease_token', 'RATE_LIMIT_EXCEEDED', 'slow down', 60000);
select is((select count(*)::int from net.http_request_queue where id > :before), 2, 'a retry due later sends nothing now');
select is((select status::text from public.generations where id = :'gid'), 'queued', 'the retry is queued');
select ok((select next_attempt_at > now() + interval '59 seconds' from public.generations where id = :'gid'),
  'the retry waits at least the provider''s Retry-After');

-- Time passes: the retry becomes due.
update public.generations set next_attempt_at = now(), wake_at = now() where id = :'gid';
select public.reconcile();
select is((select count(*)::int from net.http_request_queue where id > :before and url like '%/txt2img'), 2,
  'reconcile dispatches the retry once it is due');
select public.reconcile();
select is((select count(*)::int from net.http_request_queue where id > :before and url like '%/txt2img'), 2,
  'a second reconcile does not dispatch it again');
select is((select count(*)::int from public.generation_events where generation_id = :'gid'), 5,
  'each transition was logged exactly once');

select * from finish();
rollback;
