begin;
select plan(9);

select tests.create_user('illegal@test.local') as uid \gset
select tests.new_generation(:'uid') as gid \gset

select throws_ok($$ update public.generations set status = 'waiting', provider_task_id = 't' where id = '$$ || :'gid' || $$' $$,
  'RF409', null, 'queued -> waiting is refused');
select throws_ok($$ update public.generations set status = 'completed' where id = '$$ || :'gid' || $$' $$,
  'RF409', null, 'queued -> completed is refused');
select throws_ok($$ update public.generations set step = 'video' where id = '$$ || :'gid' || $$' $$,
  'RF409', null, 'a step cannot change without a transition');

select * from public.claim_step(:'gid', 'script') \gset claim_
select throws_ok($$ update public.generations set status = 'queued', step = 'video', lease_token = null, lease_until = null
  where id = '$$ || :'gid' || $$' $$, 'RF409', null, 'script -> video skips steps and is refused');
select throws_ok($$ update public.generations set status = 'completed', lease_token = null, lease_until = null
  where id = '$$ || :'gid' || $$' $$, 'RF409', null, 'completing at a step that is not final is refused');
select throws_ok($$ update public.generations set user_id = gen_random_uuid() where id = '$$ || :'gid' || $$' $$,
  'RF409', null, 'the owner never changes');

update public.generations set status = 'canceled', lease_token = null, lease_until = null where id = :'gid';
select throws_ok($$ update public.generations set status = 'queued' where id = '$$ || :'gid' || $$' $$,
  'RF409', null, 'canceled is terminal');
select throws_ok($$ update public.generations set progress = 50 where id = '$$ || :'gid' || $$' $$,
  'RF409', null, 'a canceled generation cannot change at all');

select tests.new_generation(:'uid') as gid2 \gset
update public.generations set status = 'failed', error_code = 'TASK_FAILED' where id = :'gid2';
select throws_ok($$ update public.generations set status = 'running', lease_token = gen_random_uuid(), lease_until = now()
  where id = '$$ || :'gid2' || $$' $$, 'RF409', null, 'failed -> running is refused (only a retry re-queues)');

select * from finish();
rollback;
