begin;
select plan(10);

select tests.create_user('illegal@test.local') as uid \gset
select tests.new_generation(:'uid') as gid \gset
select id as script_task from engine.tasks where generation_id = :'gid' and step = 'script' \gset

select throws_ok($$ update engine.tasks set status = 'waiting', provider_task_id = 't' where id = $$ || :script_task,
  'RF409', null, 'a queued task cannot wait on a provider without running');
select throws_ok($$ update engine.tasks set status = 'completed' where id = $$ || :script_task,
  'RF409', null, 'a queued task cannot complete without running');
select throws_ok($$ update engine.tasks set step = 'video' where id = $$ || :script_task,
  'RF409', null, 'a task''s step never changes');
select throws_ok($$ update engine.tasks set generation_id = gen_random_uuid() where id = $$ || :script_task,
  'RF409', null, 'a task never moves to another run');
select throws_ok($$ update public.generations set status = 'queued' where id = '$$ || :'gid' || $$' $$,
  'RF409', null, 'running -> queued is refused');
select throws_ok($$ update public.generations set user_id = gen_random_uuid() where id = '$$ || :'gid' || $$' $$,
  'RF409', null, 'the owner never changes');

select tests.complete(:'gid', 'script', '{"script": {}}');
select throws_ok($$ update engine.tasks set status = 'queued' where id = $$ || :script_task,
  'RF409', null, 'a completed task is terminal');

update engine.tasks set status = 'canceled' where generation_id = :'gid' and status <> 'completed';
update public.generations set status = 'canceled' where id = :'gid';
select throws_ok($$ update public.generations set status = 'running' where id = '$$ || :'gid' || $$' $$,
  'RF409', null, 'canceled is terminal');
select throws_ok($$ update public.generations set progress = 50 where id = '$$ || :'gid' || $$' $$,
  'RF409', null, 'a canceled generation cannot change at all');

select tests.new_generation(:'uid') as gid2 \gset
update engine.tasks set status = 'failed', error_code = 'TASK_FAILED' where generation_id = :'gid2';
select throws_ok($$ update public.generations set status = 'completed' where id = '$$ || :'gid2' || $$' $$,
  'RF409', null, 'failed -> completed is refused (only a retry re-queues)');

select * from finish();
rollback;
