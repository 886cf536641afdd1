begin;
select plan(5);

select tests.define_graph_pipeline();
select tests.free_capacity();
select tests.create_user('cancel-map@test.local', 1000) as uid \gset
select tests.new_graph_run(:'uid', 6) as gid \gset
select engine.complete_task(s.task_id, s.lease_token::text, '["line"]') from engine.start_tasks('test-worker', 10) s;
-- The narration and three scenes start (running), three scenes wait (queued).
select s.task_id from engine.start_tasks('test-worker', 4) s;

select tests.authenticate_as(:'uid');
select lives_ok($$ select app.cancel_generation('$$ || :'gid' || $$') $$, 'the owner cancels mid-map');
select tests.clear_authentication();
select is((select count(*)::int from engine.tasks where generation_id = :'gid' and status in ('queued', 'running', 'waiting')), 0,
  'no task is left to run');
select is_empty($$ select * from engine.start_tasks('test-worker', 10) $$, 'nothing can be claimed');
select is((select credits_charged from public.generations where id = :'gid'), 31, 'charged: the plan (1) and the three started scenes (30)');
select is((select balance from public.credit_accounts where user_id = :'uid'), 969::bigint, 'the rest went back');

select * from finish();
rollback;
