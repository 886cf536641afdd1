-- Test helpers (not deployed): users, signing in as them, and a generation at any state.
-- In the style of basejump's supabase-test-helpers.
create extension if not exists pgtap with schema extensions;
create extension if not exists dblink with schema extensions;
create schema if not exists tests;
-- The migrations take EXECUTE away from PUBLIC for new functions; the test tools (pgTAP,
-- dblink) are called by tests signed in as users.
grant execute on all functions in schema extensions to public;
grant usage on schema tests to anon, authenticated;

create or replace function tests.create_user(p_email text, p_credits integer default 10000)
returns uuid language plpgsql security definer set search_path = '' as $$
declare uid uuid;
begin
  insert into auth.users (email) values (p_email) returning id into uid;
  -- Tests grant exactly what they need: the welcome grant is taken back.
  delete from public.credit_ledger where user_id = uid and reason = 'welcome';
  update public.credit_accounts set balance = 0 where user_id = uid;
  if p_credits > 0 then
    perform public.grant_credits(uid, p_credits);
  end if;
  return uid;
end $$;

create or replace function tests.authenticate_as(p_user_id uuid) returns void
language plpgsql as $$
begin
  perform set_config('request.jwt.claims',
    json_build_object('sub', p_user_id, 'role', 'authenticated')::text, true);
  set local role authenticated;
end $$;

create or replace function tests.clear_authentication() returns void
language plpgsql as $$
begin
  perform set_config('request.jwt.claims', '', true);
  reset role;
end $$;

-- A cinematic generation for a user, created through the real API function.
create or replace function tests.new_generation(p_user_id uuid, p_duration integer default 5)
returns uuid language plpgsql as $$
declare gid uuid;
begin
  perform set_config('request.jwt.claims', json_build_object('sub', p_user_id, 'role', 'authenticated')::text, true);
  select id into gid from app.create_generation('cinematic',
    jsonb_build_object('idea', 'a test idea', 'duration', p_duration, 'aspect_ratio', '9:16'));
  perform set_config('request.jwt.claims', '', true);
  return gid;
end $$;

grant execute on all functions in schema tests to anon, authenticated;

-- Removes committed test users (and their runs) while the live stack may be working on those
-- runs: their tasks first (the engine's lock order), and again if a worker's transaction and
-- this one still deadlock (Postgres then aborts one of them; the worker's retries itself).
create or replace function tests.remove_users(p_email_like text) returns void
language plpgsql as $$
begin
  for attempt in 1..5 loop
    begin
      delete from engine.tasks where user_id in (select id from auth.users where email like p_email_like);
      delete from auth.users where email like p_email_like;
      return;
    exception when deadlock_detected then
      if attempt = 5 then
        raise;
      end if;
    end;
  end loop;
end $$;

-- Provider capacity as if nothing had been used (inside the test's transaction).
create or replace function tests.free_capacity() returns void language sql as $$
  update engine.settings set capacity_scale = 1000;
  update engine.provider_capacity set paused_until = null, recent = '{}';
$$;

-- Claims the due task of `p_step` of one generation through the real engine.start_tasks:
-- other runs' queued tasks are pushed out of the way (inside the test's transaction) and
-- capacity is not a concern here. Returns the task id and lease token.
create or replace function tests.claim(p_generation_id uuid, p_step text,
  out task_id bigint, out lease_token uuid, out attempt integer)
language plpgsql as $$
begin
  perform tests.free_capacity();
  update engine.tasks set next_attempt_at = now() + interval '1 hour'
  where status = 'queued' and (generation_id <> p_generation_id or step <> p_step);
  select s.task_id, s.lease_token, s.attempt into task_id, lease_token, attempt
  from engine.start_tasks((select handler from engine.tasks where generation_id = p_generation_id and step = p_step
                           order by task_index limit 1), 100) s
  where s.generation_id = p_generation_id and s.step = p_step
  order by s.task_index limit 1;
  update engine.tasks set next_attempt_at = now()
  where status = 'queued' and next_attempt_at > now() + interval '59 minutes';
end $$;

-- Claims and completes one single step with the given output.
create or replace function tests.complete(p_generation_id uuid, p_step text, p_output jsonb default '{}')
returns void language plpgsql as $$
declare c record := tests.claim(p_generation_id, p_step);
begin
  if c.task_id is null then
    raise exception 'no due task of step % to complete', p_step;
  end if;
  perform engine.complete_task(c.task_id, c.lease_token::text, p_output);
end $$;

-- Walks a cinematic generation through the real worker API to a running store_output
-- task, and returns that task's claim.
create or replace function tests.run_to_store_output(p_generation_id uuid, out task_id bigint, out lease_token uuid)
language plpgsql as $$
declare c record;
begin
  perform tests.complete(p_generation_id, 'script', '{"script": {}}');
  perform tests.complete(p_generation_id, 'base_image', '{"base_image_path": "b"}');
  c := tests.claim(p_generation_id, 'video');
  perform engine.await_provider(c.task_id, c.lease_token, 'novita', 'task-' || p_generation_id);
  perform engine.complete_task(c.task_id, 'task-' || p_generation_id, '{"provider_video_url": "u"}');
  select t.task_id, t.lease_token into task_id, lease_token from tests.claim(p_generation_id, 'store_output') t;
end $$;

-- The task row of a generation's step.
create or replace function tests.task(p_generation_id uuid, p_step text, p_index integer default 0)
returns engine.tasks language sql as $$
  select * from engine.tasks where generation_id = p_generation_id and step = p_step and task_index = p_index
$$;

-- A test pipeline (inside the test's transaction): the real 'movie' graph is replaced by
-- plan (single) -> scenes (map over inputs.scenes) -> merge (fan-in), and
-- narration (map over plan's output array) -> merge; 'extras' runs only with inputs.extras.
create or replace function tests.define_graph_pipeline() returns void language sql as $$
  delete from engine.tasks where pipeline = 'movie';  -- a dev database's real movies (rolled back)
  delete from engine.flow_deps where pipeline = 'movie';
  delete from engine.flow_steps where pipeline = 'movie';
  insert into engine.flow_steps (pipeline, step, handler, kind, map_over, run_if_input, weight) values
    ('movie', 'plan', 'test-worker', 'single', null, null, 1),
    ('movie', 'scenes', 'test-worker', 'map', 'inputs.scenes', null, 6),
    ('movie', 'narration', 'test-worker', 'map', 'plan', null, 2),
    ('movie', 'extras', 'test-worker', 'single', null, 'extras', 1),
    ('movie', 'merge', 'test-worker', 'single', null, null, 1);
  insert into engine.flow_deps (pipeline, step, depends_on) values
    ('movie', 'scenes', 'plan'), ('movie', 'narration', 'plan'), ('movie', 'merge', 'scenes'),
    ('movie', 'merge', 'narration'), ('movie', 'merge', 'extras');
$$;

-- A run of the test pipeline with n scenes, created as a user would (priced per task).
create or replace function tests.new_graph_run(p_user_id uuid, p_scenes integer, p_extras boolean default false)
returns uuid language plpgsql as $$
declare gid uuid;
begin
  insert into public.generations (user_id, pipeline, inputs, price_plan, credits_reserved)
  values (p_user_id, 'movie',
          jsonb_build_object('scenes', (select coalesce(jsonb_agg('scene ' || i), '[]') from generate_series(1, p_scenes) i),
                             'scene_images', '[]'::jsonb, 'narrations', '[]'::jsonb)
            || case when p_extras then '{"extras": true}'::jsonb else '{}' end,
          coalesce((select jsonb_object_agg('scenes:' || i, 10) from generate_series(0, p_scenes - 1) i), '{}')
            || '{"plan:0": 1, "merge:0": 2}',
          p_scenes * 10 + 3)
  returning id into gid;
  perform engine.reserve_credits(p_user_id, gid, 1, p_scenes * 10 + 3);
  perform engine.admit(p_user_id);
  return gid;
end $$;

grant execute on all functions in schema tests to anon, authenticated;
