-- Movie authoring (MovieFlow): a user's assets, templates with variables, batches, the
-- media cache, and per-task metrics. Requests are validated by the `assets` and `video`
-- functions (packages/shared/src/api/assets.ts, templates.ts, movie.ts).

-- Assets ---------------------------------------------------------------------------------

create type public.asset_type as enum ('image', 'audio', 'video');

-- A file in the caller's folder of the `assets` bucket, its type read from its content and
-- probed (dimensions, duration) by the upload; `path` is what a spec names.
create table public.assets (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  type public.asset_type not null,
  name text not null check (char_length(name) between 1 and 200),
  tags text[] not null default '{}' check (cardinality(tags) <= 20),
  path text not null unique check (path ~ '^[0-9a-f-]{36}/[A-Za-z0-9._/-]+$' and path not like '%..%'),
  mime text not null,
  size_bytes bigint not null check (size_bytes > 0),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  width integer,
  height integer,
  duration_seconds numeric,
  created_at timestamptz not null default now()
);
create index assets_user_idx on public.assets (user_id, created_at desc, id desc);

alter table public.assets enable row level security;
grant select on public.assets to authenticated;
create policy "owners read their assets" on public.assets
  for select to authenticated using (user_id = (select auth.uid()));

create function app.create_asset(p_type public.asset_type, p_name text, p_tags text[], p_path text, p_mime text,
  p_size_bytes bigint, p_sha256 text, p_width integer, p_height integer, p_duration_seconds numeric)
returns public.assets
language plpgsql security definer set search_path = '' as $$
declare
  uid uuid := app.require_user();
  created public.assets;
begin
  if split_part(p_path, '/', 1) <> uid::text then
    raise exception using errcode = 'RF403', message = 'An asset must be in your own folder';
  end if;
  insert into public.assets (user_id, type, name, tags, path, mime, size_bytes, sha256, width, height, duration_seconds)
  values (uid, p_type, p_name, p_tags, p_path, p_mime, p_size_bytes, p_sha256, p_width, p_height, p_duration_seconds)
  returning * into created;
  return created;
exception when check_violation then
  raise exception using errcode = 'RF400', message = 'An asset needs a name of 1 to 200 characters and at most 20 tags';
end $$;

-- The caller's tasks not yet ended whose request names this file.
create function app.tasks_using(p_path text) returns uuid[]
language sql stable security definer set search_path = '' as $$
  select coalesce(array_agg(g.id order by g.created_at), '{}') from public.generations g
  where g.user_id = app.require_user() and g.status in ('queued', 'running')
    and position(to_jsonb(p_path)::text in g.inputs::text) > 0
$$;

-- Deletes the row (the function then removes the file); refused while a task uses it. The
-- row lock makes a concurrent delete of the same asset wait and then find nothing.
create function app.delete_asset(p_asset_id uuid) returns public.assets
language plpgsql security definer set search_path = '' as $$
declare
  target public.assets;
  users uuid[];
begin
  select * into target from public.assets where id = p_asset_id and user_id = app.require_user() for update;
  if not found then
    raise exception using errcode = 'RF404', message = 'Asset not found';
  end if;
  users := app.tasks_using(target.path);
  if cardinality(users) > 0 then
    raise exception using errcode = 'RF409',
      message = format('This asset is used by %s running task(s): %s. Cancel them or wait until they end',
                       cardinality(users), array_to_string(users, ', '));
  end if;
  delete from public.assets where id = target.id;
  return target;
end $$;

-- Templates ------------------------------------------------------------------------------

-- A movie spec with {{variable}} placeholders (packages/shared/src/templates.ts renders it).
-- Built-in templates have no owner; a user's own slugs are theirs alone.
create table public.movie_templates (
  id uuid primary key default gen_random_uuid(),
  user_id uuid references auth.users (id) on delete cascade,
  slug text not null check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text not null check (char_length(name) between 1 and 100),
  description text not null default '' check (char_length(description) <= 1000),
  variables jsonb not null default '{}' check (jsonb_typeof(variables) = 'object'),
  spec jsonb not null check (jsonb_typeof(spec) = 'object' and pg_column_size(spec) < 65536),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index movie_templates_slug_idx on public.movie_templates (coalesce(user_id, '00000000-0000-0000-0000-000000000000'), slug);

alter table public.movie_templates enable row level security;
grant select on public.movie_templates to authenticated;
create policy "everyone reads built-in templates, owners their own" on public.movie_templates
  for select to authenticated using (user_id is null or user_id = (select auth.uid()));

-- Saves (or replaces) one of the caller's templates; a built-in's slug is not available.
create function app.save_template(p_slug text, p_name text, p_description text, p_variables jsonb, p_spec jsonb)
returns public.movie_templates
language plpgsql security definer set search_path = '' as $$
declare
  uid uuid := app.require_user();
  saved public.movie_templates;
begin
  if exists (select 1 from public.movie_templates where user_id is null and slug = p_slug) then
    raise exception using errcode = 'RF400', message = format('"%s" is a built-in template: choose another slug', p_slug);
  end if;
  insert into public.movie_templates as t (user_id, slug, name, description, variables, spec)
  values (uid, p_slug, p_name, p_description, p_variables, p_spec)
  on conflict (coalesce(user_id, '00000000-0000-0000-0000-000000000000'), slug) do update
    set name = excluded.name, description = excluded.description, variables = excluded.variables,
        spec = excluded.spec, updated_at = now()
  returning * into saved;
  return saved;
exception when check_violation then
  raise exception using errcode = 'RF400', message = 'A template needs a slug (a-z, 0-9, -), a name of 1 to 100 characters and a spec under 64 KB';
end $$;

create function app.delete_template(p_slug text) returns void
language plpgsql security definer set search_path = '' as $$
begin
  delete from public.movie_templates where user_id = app.require_user() and slug = p_slug;
  if not found then
    raise exception using errcode = 'RF404', message = format('You have no template "%s"', p_slug);
  end if;
end $$;

-- The seed's two: tang-monk (the example movie) and product-intro (one scene per feature).
insert into public.movie_templates (slug, name, description, variables, spec) values
('tang-monk', 'Tang Monk goes dating',
 'Six 10 s cartoon scenes: the Tang Monk back from the west looks for love in {{city}}.',
 '{"city": {"type": "text", "description": "Where he looks for love", "default": "长安"},
   "hobby": {"type": "text", "description": "What he tells his date he likes"}}',
 '{"projectName": "tang-monk-dating",
   "scenes": [
     {"id": "scene1", "prompt": "Q版唐僧站在寺庙前，温馨卡通风格，清晨阳光", "duration": 10,
      "audio": {"text": "贫僧刚从西天取经回来", "voice": "tang_monk", "emotion": "humble"}},
     {"id": "scene2", "prompt": "Q版唐僧在热闹的{{city}}街头四处张望，卡通风格", "duration": 10,
      "audio": {"text": "{{city}}真热闹，可贫僧还是孤身一人", "voice": "tang_monk", "emotion": "sad"}},
     {"id": "scene3", "prompt": "Q版唐僧打开手机上的交友软件，表情好奇，卡通风格", "duration": 10,
      "audio": {"text": "听说现在流行网上交友，贫僧也试一试", "voice": "tang_monk", "emotion": "humble"}},
     {"id": "scene4", "prompt": "Q版唐僧在茶馆里和一位姑娘喝茶，害羞脸红，卡通风格", "duration": 10,
      "audio": {"text": "女施主，贫僧平时喜欢{{hobby}}", "voice": "tang_monk", "emotion": "gentle"}},
     {"id": "scene5", "prompt": "Q版孙悟空从窗外探头偷看，调皮表情，卡通风格", "duration": 10,
      "audio": {"text": "师父，您这是要还俗了吗？", "voice": "male_bright", "emotion": "excited"}},
     {"id": "scene6", "prompt": "Q版唐僧和徒弟们在夕阳下一起走回寺庙，温馨结局，卡通风格", "duration": 10,
      "audio": {"text": "缘分天注定，还是取经路上最自在", "voice": "narrator", "emotion": "calm"}}],
   "config": {"platform": "douyin", "resolution": "1080x1920", "fps": 24, "quality": "high"},
   "effects": {"transitions": true, "watermark": false}}'),
('product-intro', 'Product introduction',
 'An opening, one 10 s scene per feature (1 to 4), and a closing call to action.',
 '{"product_name": {"type": "text", "description": "The product''s name"},
   "features": {"type": "list", "description": "Its features, one scene each (1 to 4)"},
   "tagline": {"type": "text", "description": "The closing line", "default": "现在就试试吧"}}',
 '{"projectName": "{{product_name}}-intro",
   "scenes": [
     {"id": "intro", "prompt": "Sleek product hero shot of {{product_name}}, soft studio light, slow push-in", "duration": 10,
      "audio": {"text": "认识一下{{product_name}}", "voice": "narrator", "emotion": "excited"}},
     {"forEach": "features", "id": "feature{{index}}",
      "prompt": "{{product_name}} showing the feature \"{{item}}\" on a phone screen, clean motion graphics", "duration": 10,
      "audio": {"text": "{{item}}", "voice": "narrator", "emotion": "calm"}},
     {"id": "outro", "prompt": "{{product_name}} logo on a bright gradient, confident camera pull-back", "duration": 10,
      "audio": {"text": "{{product_name}}，{{tagline}}", "voice": "narrator", "emotion": "excited"}}],
   "config": {"platform": "douyin", "resolution": "1080x1920", "fps": 24, "quality": "high"},
   "effects": {"transitions": true, "watermark": false}}');

-- Batches ----------------------------------------------------------------------------------

alter table public.generation_batches enable row level security;
grant select on public.generation_batches to authenticated;
create policy "owners read their batches" on public.generation_batches
  for select to authenticated using (user_id = (select auth.uid()));

create function app.create_batch(p_parallel boolean) returns public.generation_batches
language sql security definer set search_path = '' as $$
  insert into public.generation_batches (user_id, parallel) values (app.require_user(), p_parallel) returning *
$$;

-- The media cache -------------------------------------------------------------------------

-- Work a user may be given again without a provider call (seed: scene images 15 minutes,
-- generated segments 7 days): the key hashes everything that decides the result. Per user,
-- so one user's prompts and frames never reach another.
create table engine.media_cache (
  user_id uuid not null references auth.users (id) on delete cascade,
  kind text not null check (kind in ('scene_image', 'segment')),
  key text not null check (key ~ '^[0-9a-f]{64}$'),
  path text not null,                       -- in the outputs bucket
  facts jsonb not null default '{}',
  expires_at timestamptz not null,
  primary key (user_id, kind, key)
);
create index media_cache_expiry_idx on engine.media_cache (expires_at);
alter table engine.media_cache enable row level security;

create function engine.cache_get(p_user_id uuid, p_kind text, p_key text, out path text, out facts jsonb)
language sql stable security definer set search_path = '' as $$
  select c.path, c.facts from engine.media_cache c
  where c.user_id = p_user_id and c.kind = p_kind and c.key = p_key and c.expires_at > now()
$$;

create function engine.cache_put(p_user_id uuid, p_kind text, p_key text, p_path text, p_facts jsonb) returns void
language sql security definer set search_path = '' as $$
  insert into engine.media_cache (user_id, kind, key, path, facts, expires_at)
  values (p_user_id, p_kind, p_key, p_path, p_facts,
          now() + case p_kind when 'scene_image' then interval '15 minutes' else interval '7 days' end)
  on conflict (user_id, kind, key) do update
    set path = excluded.path, facts = excluded.facts, expires_at = excluded.expires_at
$$;

-- A gone file (its task was canceled) is no longer an answer.
create function engine.cache_forget(p_user_id uuid, p_kind text, p_key text) returns void
language sql security definer set search_path = '' as $$
  delete from engine.media_cache where user_id = p_user_id and kind = p_kind and key = p_key
$$;

grant execute on function engine.cache_get(uuid, text, text), engine.cache_put(uuid, text, text, text, jsonb),
  engine.cache_forget(uuid, text, text) to service_role;

-- Expired entries are never answers (cache_get checks); this only frees the rows, hourly.
do $$
begin
  if exists (select 1 from pg_extension where extname = 'pg_cron') then
    perform cron.schedule('reelforge-media-cache', '17 * * * *', 'delete from engine.media_cache where expires_at < now()');
  end if;
end $$;

-- Metrics ----------------------------------------------------------------------------------

-- The seed's get_metrics for one task: wall time, time per step (first start to last end),
-- provider calls (submissions, image and speech requests, polls), retries, cache hits.
create function app.task_metrics(p_generation_id uuid) returns jsonb
language sql stable security definer set search_path = '' as $$
  with run as (select * from app.owned_generation(p_generation_id)),
  phases as (
    select e.step, extract(epoch from max(e.created_at) filter (where e.status in ('completed', 'failed'))
                                      - min(e.created_at) filter (where e.status = 'running')) as seconds
    from public.generation_events e, run
    where e.generation_id = run.id and e.step is not null
    group by e.step
  ),
  work as (
    select count(*) filter (where t.output ->> 'cached' = 'true') as cache_hits,
           coalesce(sum(t.attempt) filter (where f.capacity_key is not null and t.output ->> 'cached' is distinct from 'true'), 0)
             + coalesce(sum(t.poll_count), 0) as provider_calls,
           coalesce(sum(t.poll_count), 0) as polls,
           coalesce(sum(greatest(t.attempt - 1, 0)), 0) as retries
    from engine.tasks t join engine.flow_steps f on f.pipeline = t.pipeline and f.step = t.step, run
    where t.generation_id = run.id
  )
  select jsonb_build_object(
    'totalSeconds', round(extract(epoch from coalesce(run.completed_at, now()) - run.created_at)::numeric, 2),
    'queuedSeconds', greatest(0, round(extract(epoch from coalesce(run.started_at, now()) - run.created_at)::numeric, 2)),
    'phases', coalesce((select jsonb_object_agg(p.step, round(p.seconds::numeric, 2)) from phases p where p.seconds is not null), '{}'),
    'providerCalls', work.provider_calls, 'polls', work.polls, 'retries', work.retries, 'cacheHits', work.cache_hits,
    'credits', jsonb_build_object('reserved', run.credits_reserved, 'charged', run.credits_charged, 'refunded', run.credits_refunded))
  from run, work
$$;

-- Scene edits ------------------------------------------------------------------------------

-- A scene's first frame as it stands: its own (assets bucket), else the scene image made for it.
create function app.scene_first_frame(p_generation_id uuid, p_index integer, out bucket text, out path text)
language sql stable security definer set search_path = '' as $$
  select case when s ? 'first_frame_path' then 'assets' else 'outputs' end,
         coalesce(s ->> 'first_frame_path',
                  (select t.output ->> 'image_path' from engine.tasks t
                   where t.generation_id = g.id and t.step = 'scene_image' and t.status = 'completed'
                     and t.output ->> 'scene_id' = s ->> 'id'))
  from app.owned_generation(p_generation_id) g, jsonb_extract_path(g.inputs, 'scenes', p_index::text) s
$$;

-- An edited image becomes a scene's first frame (its next retry starts from it). Not while the
-- task runs: its segment may be using the old one.
create function app.set_scene_first_frame(p_generation_id uuid, p_index integer, p_path text) returns void
language plpgsql security definer set search_path = '' as $$
declare
  target public.generations := app.owned_generation(p_generation_id);
  scene jsonb := target.inputs -> 'scenes' -> p_index;
begin
  if target.status not in ('completed', 'failed') then
    raise exception using errcode = 'RF400',
      message = format('A scene can be changed once the task has ended; this one is %s', target.status);
  end if;
  if scene ->> 'kind' = 'talking_head' or scene ->> 'mode' = 't2v' then
    raise exception using errcode = 'RF400', message = format('Scene %s starts from no image', scene ->> 'id');
  end if;
  if split_part(p_path, '/', 1) <> target.user_id::text then
    raise exception using errcode = 'RF403', message = 'The first frame must be in your own folder';
  end if;
  scene := (scene - 'cache_key') || jsonb_build_object('first_frame_path', p_path);
  update public.generations set inputs = jsonb_set(inputs, array['scenes', p_index::text], scene) where id = target.id;
  -- A failed segment is retried with its own copy of the scene: that copy changes too.
  update engine.tasks set element = scene
  where generation_id = target.id and step = 'segment' and task_index = p_index and status = 'failed';
end $$;

-- When a run or one of its tasks last changed: the version behind a task's ETag.
create function app.run_changed_at(p_generation_id uuid) returns timestamptz
language sql stable security definer set search_path = '' as $$
  select greatest(g.updated_at, max(t.updated_at))
  from public.generations g left join engine.tasks t on t.generation_id = g.id
  where g.id = (app.owned_generation(p_generation_id)).id
  group by g.updated_at
$$;

revoke execute on function app.create_asset(public.asset_type, text, text[], text, text, bigint, text, integer, integer, numeric),
  app.tasks_using(text), app.delete_asset(uuid), app.save_template(text, text, text, jsonb, jsonb), app.delete_template(text),
  app.create_batch(boolean), app.task_metrics(uuid), app.run_changed_at(uuid), app.scene_first_frame(uuid, integer),
  app.set_scene_first_frame(uuid, integer, text) from public, anon;
grant execute on function app.create_asset(public.asset_type, text, text[], text, text, bigint, text, integer, integer, numeric),
  app.tasks_using(text), app.delete_asset(uuid), app.save_template(text, text, text, jsonb, jsonb), app.delete_template(text),
  app.create_batch(boolean), app.task_metrics(uuid), app.run_changed_at(uuid), app.scene_first_frame(uuid, integer),
  app.set_scene_first_frame(uuid, integer, text) to authenticated, service_role;
