-- The graph: a map step makes one task per element (0, 1 or 50), a step that depends on a
-- map waits for all of its tasks, and a conditional step is skipped without its input.
begin;
select plan(12);

select tests.define_graph_pipeline();
select tests.free_capacity();
select tests.create_user('graph@test.local', 100000) as uid \gset

-- Runs every due test-worker task, with its element as output (plan outputs two lines).
create function pg_temp.work() returns integer language sql as $$
  select count(engine.complete_task(s.task_id, s.lease_token::text,
           case s.step when 'plan' then '["line 1", "line 2"]'::jsonb else jsonb_build_object('done', s.step, 'element', s.element) end))::integer
  from engine.start_tasks('test-worker', 1000) s
$$;

select tests.new_graph_run(:'uid', 50) as fifty \gset
select pg_temp.work();
select is((select count(*)::int from engine.tasks where generation_id = :'fifty' and step = 'scenes'), 50, 'a map over 50 elements makes 50 tasks');
select is((select count(*)::int from engine.tasks where generation_id = :'fifty' and step = 'narration'), 2,
  'a map over an earlier step''s array output makes one task per element');
select is((select status from engine.step_states where generation_id = :'fifty' and step = 'extras'), 'skipped',
  'a conditional step without its input is skipped');

-- Fan-in: merge waits until the last scene is done.
select engine.complete_task(s.task_id, s.lease_token::text, jsonb_build_object('element', s.element))
from engine.start_tasks('test-worker', 1000) s where s.step <> 'scenes' or s.task_index <> 49;
select is((select count(*)::int from engine.tasks where generation_id = :'fifty' and step = 'merge'), 0,
  'with 49 of 50 scenes done, the fan-in step has not started');
select engine.complete_task(t.id, t.lease_token::text, jsonb_build_object('element', t.element))
from engine.tasks t where t.generation_id = :'fifty' and t.step = 'scenes' and t.task_index = 49;
select is((select count(*)::int from engine.tasks where generation_id = :'fifty' and step = 'merge'), 1,
  'the last scene starts the fan-in step');
select is((select jsonb_array_length(output) from engine.step_states where generation_id = :'fifty' and step = 'scenes'), 50,
  'the map''s output is its 50 outputs');
select is((select output -> 7 ->> 'element' from engine.step_states where generation_id = :'fifty' and step = 'scenes'), 'scene 8',
  'in index order');
select pg_temp.work();
select is((select status::text || '/' || progress from public.generations where id = :'fifty'), 'completed/100', 'the run completes');

select tests.new_graph_run(:'uid', 1, true) as one \gset
select pg_temp.work(); select pg_temp.work(); select pg_temp.work();
select is((select count(*)::int from engine.tasks where generation_id = :'one' and step = 'scenes'), 1, 'a map over 1 element makes 1 task');
select is((select status::text from public.generations where id = :'one'), 'completed', 'and the run completes (with extras run)');

select tests.new_graph_run(:'uid', 0) as zero \gset
select pg_temp.work(); select pg_temp.work(); select pg_temp.work();
select is((select status || '/' || output::text from engine.step_states where generation_id = :'zero' and step = 'scenes'),
  'completed/[]', 'a map over 0 elements completes at once with []');
select is((select status::text from public.generations where id = :'zero'), 'completed', 'and its dependents still run');

select * from finish();
rollback;
