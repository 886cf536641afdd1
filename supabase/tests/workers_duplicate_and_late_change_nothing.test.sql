begin;
select plan(9);

select tests.create_user('workers@test.local') as uid \gset
select tests.new_generation(:'uid') as gid \gset

select * from tests.claim(:'gid', 'script') \gset first_
select is_empty($$ select * from engine.start_tasks('generate-script') where generation_id = '$$ || :'gid' || $$' $$,
  'a second claim of the same task gets nothing');
select is_empty($$ select * from engine.start_tasks('txt2img') where generation_id = '$$ || :'gid' || $$' $$,
  'a step that is not ready has nothing to claim');
select ok(not engine.complete_task(:first_task_id, gen_random_uuid()::text, '{"x": 1}'), 'completing with a wrong lease token changes nothing');
select is((tests.task(:'gid', 'script')).status::text, 'running', 'the task is still running');

select ok(engine.complete_task(:first_task_id, :'first_lease_token', '{"script": {}}'), 'the lease holder completes');
select ok(not engine.complete_task(:first_task_id, :'first_lease_token', '{"late": true}'), 'a duplicate completion changes nothing');
select ok(not ((tests.task(:'gid', 'script')).output ? 'late'), 'the duplicate left no output behind');

-- Late worker after a cancel: its commit matches no row.
select * from tests.claim(:'gid', 'base_image') \gset second_
select tests.authenticate_as(:'uid');
select app.cancel_generation(:'gid');
select tests.clear_authentication();
select ok(not engine.complete_task(:second_task_id, :'second_lease_token', '{}'), 'a worker finishing after cancel changes nothing');
select is((select count(*)::int from public.generation_events where generation_id = :'gid' and status = 'canceled' and step is null), 1,
  'cancel was logged once and nothing after it');

select * from finish();
rollback;
