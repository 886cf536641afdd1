-- Row level security on every table: owners read their own rows; nobody writes tables
-- directly (writes go through the security-definer functions above). The engine schema
-- (tasks with their lease and webhook tokens, provider task ids) is not exposed at all.

alter table public.generations enable row level security;
alter table public.generation_events enable row level security;
alter table public.credit_accounts enable row level security;
alter table public.credit_ledger enable row level security;
alter table public.price_list enable row level security;

revoke all on all tables in schema public from anon, authenticated;
grant select on public.generations, public.generation_events, public.credit_accounts,
  public.credit_ledger to authenticated;
grant select on public.price_list to anon, authenticated;

create policy "owners read their generations" on public.generations
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their events" on public.generation_events
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their account" on public.credit_accounts
  for select to authenticated using (user_id = (select auth.uid()));
create policy "owners read their ledger" on public.credit_ledger
  for select to authenticated using (user_id = (select auth.uid()));
create policy "catalog is public" on public.price_list for select using (true);

-- Realtime: a user may join only their own private topic, and read only its messages.
create policy "users receive their own generation updates" on realtime.messages
  for select to authenticated
  using (topic = 'generations:' || (select auth.uid())::text
         and (select realtime.topic()) = topic);

-- The engine: service role only.
alter table engine.settings enable row level security;
alter table engine.provider_capacity enable row level security;
alter table engine.flow_steps enable row level security;
alter table engine.flow_deps enable row level security;
alter table engine.step_states enable row level security;
alter table engine.tasks enable row level security;
alter table engine.wakeups enable row level security;
alter table engine.request_buckets enable row level security;
revoke all on all tables in schema engine from public, anon, authenticated;
grant all on all tables in schema engine to service_role;
revoke execute on all functions in schema engine from public, anon, authenticated;
grant execute on all functions in schema engine to service_role;

-- Functions: Postgres lets PUBLIC execute every new function; take that back for the
-- functions that exist and, for those to come, in the global default of the role that
-- creates them (a per-schema default can only add privileges, never remove PUBLIC's), and
-- grant each one to whom it is for. On hosted projects Supabase also grants new objects to
-- anon and authenticated by default: revoked likewise.
revoke execute on all functions in schema public from public, anon, authenticated;
alter default privileges for role postgres revoke execute on functions from public;
alter default privileges for role postgres in schema public revoke execute on functions from anon, authenticated;
alter default privileges for role postgres in schema public revoke all on tables from anon, authenticated;
alter default privileges for role postgres in schema engine revoke execute on functions from anon, authenticated;

-- The public gallery: completed public videos, without anyone's tokens or inputs.
create function public.public_gallery(p_limit integer default 20, p_before timestamptz default null)
returns table (id uuid, pipeline public.pipeline_kind, video_path text, completed_at timestamptz)
language sql stable security definer set search_path = '' as $$
  select g.id, g.pipeline, g.outputs ->> 'video_path', g.completed_at
  from public.generations g
  where g.visibility = 'public' and g.status = 'completed'
    and (p_before is null or g.completed_at < p_before)
  order by g.completed_at desc
  limit least(greatest(p_limit, 1), 100)
$$;
grant execute on function public.public_gallery(integer, timestamptz) to anon, authenticated;

-- The app schema (not exposed by the Data API): what the functions call as the user.
revoke execute on all functions in schema app from public, anon;
grant execute on all functions in schema app to authenticated, service_role;
alter default privileges for role postgres in schema app revoke execute on functions from anon;

grant execute on function public.price_quote(public.pipeline_kind, jsonb) to authenticated;
grant execute on all functions in schema public to service_role;
