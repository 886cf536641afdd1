-- Fairness: at most three active runs per user (the rest wait in order, with a queue
-- position), and claims take turns between users so one user's burst cannot starve another.
begin;
select plan(7);
select tests.define_graph_pipeline();
select tests.free_capacity();
select tests.create_user('burst@test.local', 100000) as alice \gset
select tests.create_user('patient@test.local', 100000) as bob \gset

select tests.new_graph_run(:'alice', 2) from generate_series(1, 5);
select is((select string_agg(status::text, ',' order by created_at, id) from public.generations where user_id = :'alice'),
  'running,running,running,queued,queued', 'five creates: three run, two wait');
select tests.new_graph_run(:'bob', 2) as bobs \gset

-- Alice's three plans and Bob's one are due; a claim of two takes one of each.
select is((select string_agg(distinct user_id::text, ',') from engine.start_tasks('test-worker', 2)),
  (select string_agg(u::text, ',') from (select unnest(array[:'alice', :'bob']::uuid[]) u order by 1) x),
  'a claim of two serves both users, not Alice twice');

-- Alice's first run ends: her oldest queued run is admitted.
select id as first from public.generations where user_id = :'alice' order by created_at, id limit 1 \gset
select id as fourth from public.generations where user_id = :'alice' order by created_at, id offset 3 limit 1 \gset
select tests.authenticate_as(:'alice');
select app.cancel_generation(:'first');
select tests.clear_authentication();
select is((select status::text from public.generations where id = :'fourth'), 'running', 'a run ending admits her oldest waiting one');
select is((select count(*)::int from public.generations where user_id = :'alice' and status = 'running'), 3, 'still three at most');
select is((select count(*)::int from public.generations where user_id = :'alice' and status = 'queued'), 1, 'one still waits');
select is((select count(*)::int from engine.tasks t join public.generations g on g.id = t.generation_id
           where g.user_id = :'alice' and g.status = 'queued'), 0, 'a waiting run has no tasks yet');
select is((select status::text from public.generations where id = :'bobs'), 'running', 'Bob''s run was never held back by Alice''s');

select * from finish();
rollback;
