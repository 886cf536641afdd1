-- Credits (MC): accounts, an append-only ledger, and the one pricing function that both
-- quote and reserve use.

create table public.credit_accounts (
  user_id uuid primary key references auth.users (id) on delete cascade,
  balance bigint not null default 0 check (balance >= 0),
  updated_at timestamptz not null default now()
);

-- reserve: the quote, at create (or the unpaid rest, at retry); capture: one task's price, once
-- its paid work started; refund: the capture of a task that failed or was answered from the
-- media cache, given back; release: what a round
-- reserved and never captured, when it ends.
create type public.ledger_kind as enum ('grant', 'reserve', 'capture', 'refund', 'release');

create table public.credit_ledger (
  id bigint generated always as identity primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  generation_id uuid references public.generations (id) on delete cascade,
  billing_round integer,
  step text,                 -- capture and refund name their task; reserve and release do not
  task_index integer,
  kind public.ledger_kind not null,
  amount bigint not null check (amount >= 0),
  created_at timestamptz not null default now()
);
-- One row per (generation, task, round, kind): nothing settles twice.
create unique index credit_ledger_settles_once_idx
  on public.credit_ledger (generation_id, billing_round, kind, step, task_index) nulls not distinct
  where generation_id is not null;
create index credit_ledger_user_idx on public.credit_ledger (user_id, id);

create table public.price_list (
  pipeline public.pipeline_kind not null,
  sku text not null,
  credits integer not null check (credits >= 0),
  label text not null,
  primary key (pipeline, sku)
);

insert into public.price_list (pipeline, sku, credits, label) values
  ('cinematic', 'script', 5, 'script'),
  ('cinematic', 'base_image', 20, 'base image'),
  ('cinematic', 'face_merge', 15, 'face merge'),
  ('cinematic', 'video_5s', 160, '5 s video'),
  ('cinematic', 'video_10s', 320, '10 s video'),
  ('model_direct', 'wan/2.5:720p:5s', 300, 'Wan 2.5 720p 5 s'),
  ('model_direct', 'wan/2.5:720p:10s', 600, 'Wan 2.5 720p 10 s'),
  ('model_direct', 'wan/2.5:1080p:5s', 500, 'Wan 2.5 1080p 5 s'),
  ('model_direct', 'wan/2.5:1080p:10s', 1000, 'Wan 2.5 1080p 10 s'),
  ('model_direct', 'kling/video-v2.5:5s', 210, 'Kling 2.5 5 s'),
  ('model_direct', 'kling/video-v2.5:10s', 420, 'Kling 2.5 10 s'),
  ('model_direct', 'kling-3.0/video:std', 1050, 'Kling 3.0 std'),
  ('model_direct', 'kling-3.0/video:pro', 2100, 'Kling 3.0 pro'),
  ('model_direct', 'sora-2:10s', 30, 'Sora-2 10 s'),
  ('model_direct', 'sora-2:15s', 40, 'Sora-2 15 s'),
  ('model_direct', 'sora-2-pro:standard:10s', 180, 'Sora-2 Pro standard 10 s'),
  ('model_direct', 'sora-2-pro:standard:15s', 270, 'Sora-2 Pro standard 15 s'),
  ('model_direct', 'sora-2-pro:high:10s', 530, 'Sora-2 Pro high 10 s'),
  ('model_direct', 'sora-2-pro:high:15s', 800, 'Sora-2 Pro high 15 s'),
  ('movie', 'segment:720p:5s', 100, '720p 5 s segment'),
  ('movie', 'segment:720p:10s', 200, '720p 10 s segment'),
  ('movie', 'segment:1080p:5s', 150, '1080p 5 s segment'),
  ('movie', 'segment:1080p:10s', 300, '1080p 10 s segment'),
  ('movie', 'talking_head:5s', 120, '5 s talking head'),
  ('movie', 'talking_head:10s', 240, '10 s talking head'),
  ('movie', 'scene_image', 20, 'scene image'),
  ('movie', 'narration', 5, 'narration'),
  ('movie', 'merge', 10, 'merge');

-- The priced tasks of a request: (step, task index, sku). Inputs are validated inputs.
create function public.price_lines(p_pipeline public.pipeline_kind, p_inputs jsonb)
returns table (step text, task_index integer, sku text)
language sql immutable set search_path = '' as $$
  select l.step, 0, l.sku from (values
    ('cinematic'::public.pipeline_kind, 'script', 'script', true),
    ('cinematic', 'base_image', 'base_image', true),
    ('cinematic', 'face_merge', 'face_merge', nullif(p_inputs ->> 'selfie_path', '') is not null),
    ('cinematic', 'video', 'video_' || (p_inputs ->> 'duration') || 's', true),
    ('model_direct', 'video', case p_inputs ->> 'model_id'
      when 'wan/2.5' then concat_ws(':', 'wan/2.5', p_inputs ->> 'resolution',
                                    (p_inputs ->> 'duration_seconds') || 's')
      when 'kling/video-v2.5' then 'kling/video-v2.5:' || (p_inputs ->> 'duration_seconds') || 's'
      when 'kling-3.0/video' then 'kling-3.0/video:' || (p_inputs ->> 'mode')
      when 'sora-2' then 'sora-2:' || (p_inputs ->> 'duration_seconds') || 's'
      when 'sora-2-pro' then concat_ws(':', 'sora-2-pro', p_inputs ->> 'quality',
                                       (p_inputs ->> 'duration_seconds') || 's')
    end, true)
  ) as l (pipeline, step, sku, included)
  where l.pipeline = p_pipeline and l.included
  -- A movie: one line per scene's segment (a Jimeng clip by tier and length, or a talking
  -- head by length), scene image and narration.
  union all
  select 'segment', (e.ord - 1)::integer,
         case when e.value ->> 'kind' = 'talking_head' then format('talking_head:%ss', e.value ->> 'duration')
              else format('segment:%s:%ss', case when (p_inputs ->> 'hd')::boolean then '1080p' else '720p' end,
                          e.value ->> 'duration') end
  from jsonb_array_elements(p_inputs -> 'scenes') with ordinality as e (value, ord) where p_pipeline = 'movie'
  union all
  select 'scene_image', (e.ord - 1)::integer, 'scene_image'
  from jsonb_array_elements(p_inputs -> 'scene_images') with ordinality as e (value, ord) where p_pipeline = 'movie'
  union all
  select 'narration', (e.ord - 1)::integer, 'narration'
  from jsonb_array_elements(p_inputs -> 'narrations') with ordinality as e (value, ord) where p_pipeline = 'movie'
  union all
  select 'merge', 0, 'merge' where p_pipeline = 'movie' and p_inputs ? 'merge'
$$;

-- The one pricing function: quote shows it, create reserves it, and its plan prices each task.
create function public.price_quote(p_pipeline public.pipeline_kind, p_inputs jsonb,
  out credits integer, out explain text, out plan jsonb)
language plpgsql stable security definer set search_path = '' as $$
declare
  lines integer;
  priced integer;
begin
  select count(*)::integer, count(p.sku)::integer, coalesce(sum(p.credits), 0)::integer,
         string_agg(format('%s %s MC', p.label, p.credits), ' + ' order by l.ord),
         jsonb_object_agg(l.step || ':' || l.task_index, p.credits) filter (where p.sku is not null)
    into lines, priced, credits, explain, plan
    from public.price_lines(p_pipeline, p_inputs) with ordinality as l (step, task_index, sku, ord)
    left join public.price_list p on p.pipeline = p_pipeline and p.sku = l.sku;
  if lines = 0 or priced <> lines then
    raise exception using errcode = 'RF400',
      message = format('No price exists for this %s request', p_pipeline);
  end if;
  explain := format('%s = %s MC', explain, credits);
end $$;

create function public.grant_credits(p_user_id uuid, p_credits integer) returns bigint
language plpgsql security definer set search_path = '' as $$
declare
  new_balance bigint;
begin
  if p_credits <= 0 then
    raise exception using errcode = 'RF400', message = 'A grant must be a positive number of credits';
  end if;
  insert into public.credit_accounts as a (user_id, balance) values (p_user_id, p_credits)
  on conflict (user_id) do update set balance = a.balance + excluded.balance, updated_at = now()
  returning balance into new_balance;
  insert into public.credit_ledger (user_id, kind, amount) values (p_user_id, 'grant', p_credits);
  return new_balance;
end $$;

create function public.open_credit_account() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.credit_accounts (user_id) values (new.id) on conflict do nothing;
  return null;
end $$;

create trigger open_credit_account after insert on auth.users
  for each row execute function public.open_credit_account();
