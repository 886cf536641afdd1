-- One map task fails: the run fails, the other tasks keep their work; a retry re-runs only
-- that task (charging only it) and the run completes.
begin;
select plan(7);

select tests.define_graph_pipeline();
select tests.free_capacity();
select tests.create_user('retry-map@test.local', 1000) as uid \gset
select tests.new_graph_run(:'uid', 6) as gid \gset

select engine.complete_task(s.task_id, s.lease_token::text, '["line"]') from engine.start_tasks('test-worker', 10) s;
select engine.fail_task(s.task_id, s.lease_token::text, 'CONTENT_VIOLATION', 'scene 3 was refused')
from engine.start_tasks('test-worker', 10) s where s.step = 'scenes' and s.task_index = 2;
select engine.complete_task(t.id, t.lease_token::text, '{}') from engine.tasks t
where t.generation_id = :'gid' and t.status = 'running';

select results_eq($$ select status::text, error_code, step from public.generations where id = '$$ || :'gid' || $$' $$,
  $$ values ('failed', 'CONTENT_VIOLATION', 'scenes') $$, 'the run fails naming the step');
select is((select count(*)::int from engine.tasks where generation_id = :'gid' and step = 'scenes' and status = 'completed'), 5,
  'the other five scenes kept their work');

select tests.authenticate_as(:'uid');
select lives_ok($$ select app.retry_generation('$$ || :'gid' || $$') $$, 'the owner retries');
select tests.clear_authentication();
select is((select amount::int from public.credit_ledger where generation_id = :'gid' and billing_round = 2 and kind = 'reserve'), 12,
  'round 2 reserves only the failed scene (10) and the merge that never ran (2)');
select is((select count(*)::int from engine.start_tasks('test-worker', 10) s where s.step = 'scenes' and s.task_index = 2
           and engine.complete_task(s.task_id, s.lease_token::text, '{}')), 1, 'only the failed scene runs again');
select engine.complete_task(s.task_id, s.lease_token::text, '{}') from engine.start_tasks('test-worker', 10) s;
select is((select status::text from public.generations where id = :'gid'), 'completed', 'the run completes');
select is((select credits_charged from public.generations where id = :'gid'), 63, 'charged = every task''s price once (6 x 10 + 1 + 2)');

select * from finish();
rollback;
