begin;
select plan(9);

select tests.create_user('workers@test.local') as uid \gset
select tests.new_generation(:'uid') as gid \gset

select * from public.claim_step(:'gid', 'script') \gset first_
select is_empty($$ select * from public.claim_step('$$ || :'gid' || $$', 'script') $$, 'a second claim of the same step gets nothing');
select is_empty($$ select * from public.claim_step('$$ || :'gid' || $$', 'base_image') $$, 'a claim of a step the row is not at gets nothing');
select ok(not public.complete_step(:'gid', gen_random_uuid(), '{"x": 1}', 'base_image'), 'completing with a wrong lease token changes nothing');
select is((select status::text from public.generations where id = :'gid'), 'running', 'the row is still running');

select ok(public.complete_step(:'gid', :'first_lease_token', '{"script": {}}', 'base_image'), 'the lease holder completes');
select ok(not public.complete_step(:'gid', :'first_lease_token', '{"late": true}', 'base_image'), 'a duplicate completion changes nothing');
select ok(not (select outputs ? 'late' from public.generations where id = :'gid'), 'the duplicate left no outputs behind');

-- Late worker after a cancel: its commit matches no row.
select * from public.claim_step(:'gid', 'base_image') \gset second_
update public.generations set status = 'canceled', lease_token = null, lease_until = null where id = :'gid';
select ok(not public.complete_step(:'gid', :'second_lease_token', '{}', 'video'), 'a worker finishing after cancel changes nothing');
select is((select count(*)::int from public.generation_events where generation_id = :'gid' and status = 'canceled'), 1,
  'cancel was logged once and nothing after it');

select * from finish();
rollback;
