-- Test helpers (not deployed): users, signing in as them, and a generation at any state.
-- In the style of basejump's supabase-test-helpers.
create extension if not exists pgtap with schema extensions;
create extension if not exists dblink with schema extensions;
create schema if not exists tests;
grant usage on schema tests to anon, authenticated;

create or replace function tests.create_user(p_email text, p_credits integer default 10000)
returns uuid language plpgsql security definer set search_path = '' as $$
declare uid uuid;
begin
  insert into auth.users (email) values (p_email) returning id into uid;
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
  select id into gid from public.create_generation('cinematic',
    jsonb_build_object('idea', 'a test idea', 'duration', p_duration, 'aspect_ratio', '9:16'));
  perform set_config('request.jwt.claims', '', true);
  return gid;
end $$;

grant execute on all functions in schema tests to anon, authenticated;

-- Walks a generation through the real worker API to a running store_output step and
-- returns that step's lease token.
create or replace function tests.run_to_store_output(p_generation_id uuid) returns uuid
language plpgsql as $$
declare lease uuid;
begin
  select lease_token into lease from public.claim_step(p_generation_id, 'script');
  perform public.complete_step(p_generation_id, lease, '{"script": {}}', 'base_image');
  select lease_token into lease from public.claim_step(p_generation_id, 'base_image');
  perform public.complete_step(p_generation_id, lease, '{"base_image_path": "b"}', 'video');
  select lease_token into lease from public.claim_step(p_generation_id, 'video');
  perform public.await_task(p_generation_id, lease, 'novita', 'task-' || p_generation_id);
  perform public.resolve_task(p_generation_id, 'task-' || p_generation_id, '{"provider_video_url": "u"}', 'store_output');
  select lease_token into lease from public.claim_step(p_generation_id, 'store_output');
  return lease;
end $$;
