-- A conditional dependency holds only for runs with its input (a movie's segments wait for
-- narrations only when a scene is a talking head); a task answered from the media cache
-- gives its capture back.
begin;
select plan(6);

select tests.define_graph_pipeline();
select tests.free_capacity();
select tests.create_user('conditional@test.local', 100000) as uid \gset
insert into engine.flow_deps (pipeline, step, depends_on, run_if_input) values ('movie', 'scenes', 'extras', 'extras');

-- Claims every due task, then completes the claimed ones of one step (of one run, if given).
create function pg_temp.work(p_step text, p_gid uuid default null, p_output jsonb default '{}') returns integer language sql as $$
  select count(*)::int from engine.start_tasks('test-worker', 1000);
  select count(engine.complete_task(t.id, t.lease_token::text,
           case when t.step = 'plan' then '["line"]'::jsonb when t.task_index = 0 then p_output else '{}' end))::integer
  from engine.tasks t where t.step = p_step and t.status = 'running' and t.generation_id = coalesce(p_gid, t.generation_id)
$$;
create function pg_temp.scenes(p_gid uuid) returns integer language sql as $$
  select count(*)::int from engine.tasks where generation_id = p_gid and step = 'scenes'
$$;

select tests.new_graph_run(:'uid', 2, false) as plain \gset
select tests.new_graph_run(:'uid', 2, true) as extra \gset
select pg_temp.work('plan');
select is(pg_temp.scenes(:'plain'), 2, 'without its input the dependency does not hold: scenes start after plan');
select is(pg_temp.scenes(:'extra'), 0, 'with it, scenes wait for extras');
select pg_temp.work('extras');
select is(pg_temp.scenes(:'extra'), 2, 'and start once extras is done');

-- Claiming captures each scene's price; one answered from the cache is refunded.
select pg_temp.work('scenes', :'plain', '{"cached": true}');
select is((select string_agg(format('%s:%s:%s', kind, step, amount), ' ' order by id) from public.credit_ledger
           where generation_id = :'plain' and step = 'scenes'),
  'capture:scenes:10 capture:scenes:10 refund:scenes:10', 'the cached scene''s capture is refunded, the other kept');
select is((select credits_charged || '/' || credits_refunded from public.generations where id = :'plain'), '11/10',
  'the run is charged for plan and one scene only');
select is((select charged_round from engine.tasks where generation_id = :'plain' and step = 'scenes' and task_index = 0), null,
  'and the cached task holds no capture');

select * from finish();
rollback;
