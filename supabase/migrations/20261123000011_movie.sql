-- The movie pipeline (MovieFlow): scene images and narrations in parallel, one Jimeng
-- segment per scene, each normalised by the media worker as soon as it is stored, the
-- soundtrack mixed as soon as the narrations exist, then a join that only copies packets.
-- Inputs are validated by the `video` function (packages/shared/src/api/movie.ts).

insert into engine.flow_steps (pipeline, step, handler, kind, map_over, run_if_input, capacity_key, weight,
                               publish_output, lease_seconds, starts_per_element, runs_on, poll_every) values
  ('movie', 'scene_image', 'scene-image', 'map', 'inputs.scene_images', null, 'gemini:image', 5, false, 20, false, 'edge_function', null),
  ('movie', 'narration', 'narration', 'map', 'inputs.narrations', null, 'volcengine:tts', 5, false, 20, false, 'edge_function', null),
  -- Jimeng has no webhook: its tasks are polled every 2 s. A talking-head scene (OmniHuman, the
  -- same Volcengine account) checks its portrait before it submits: a longer lease.
  ('movie', 'segment', 'jimeng-video', 'map', 'inputs.scenes', null, 'volcengine:jimeng', 60, false, 45, false, 'edge_function', '2 seconds'),
  ('movie', 'normalize', 'media-worker', 'map', 'segment', null, null, 15, false, 30, true, 'worker', null),
  -- POST video/segment makes segments alone: no `merge` input, no soundtrack, no merge.
  ('movie', 'mix_audio', 'media-worker', 'single', null, 'merge', null, 5, false, 30, false, 'worker', null),
  ('movie', 'merge', 'media-worker', 'single', null, 'merge', null, 10, true, 30, false, 'worker', null);

-- A talking head speaks its scene's narration: only a movie with one waits for the narrations
-- before its segments start.
insert into engine.flow_deps (pipeline, step, depends_on, run_if_input) values
  ('movie', 'segment', 'scene_image', null),
  ('movie', 'segment', 'narration', 'talking_heads'),
  ('movie', 'normalize', 'segment', null),
  ('movie', 'mix_audio', 'narration', null),
  ('movie', 'merge', 'normalize', null),
  ('movie', 'merge', 'mix_audio', null);

-- A movie's scenes: each segment's state, counting its normalisation (a segment is
-- completed once it is stored and normalised), and where its stored video is. No provider
-- ids or URLs.
create function engine.movie_segments(p_generation_id uuid)
returns table (task_index integer, scene_id text, status text, progress smallint, attempt integer,
               error_code text, error_message text, video_path text, duration numeric)
language sql stable security definer set search_path = '' as $$
  select s.task_index,
         g.inputs -> 'scenes' -> s.task_index ->> 'id',
         case when s.status in ('failed', 'canceled') then s.status::text
              when n.status in ('failed', 'canceled') then n.status::text
              when n.status = 'completed' then 'completed'
              when s.status = 'queued' then 'queued'
              else 'processing' end,
         case when n.status = 'completed' then 100
              when s.status = 'completed' then 95
              else engine.task_progress(s.status, s.provider_progress) * 9 / 10 end::smallint,
         s.attempt,
         coalesce(s.error_code, n.error_code),
         coalesce(s.error_message, n.error_message),
         n.output ->> 'segment_path',
         (n.output ->> 'seconds')::numeric
  from engine.tasks s
  join public.generations g on g.id = s.generation_id
  left join engine.tasks n on n.generation_id = s.generation_id and n.step = 'normalize' and n.task_index = s.task_index
  where s.generation_id = p_generation_id and s.step = 'segment'
  order by s.task_index
$$;

create function app.movie_segments(p_generation_id uuid)
returns table (task_index integer, scene_id text, status text, progress smallint, attempt integer,
               error_code text, error_message text, video_path text, duration numeric)
language sql stable security definer set search_path = '' as $$
  select * from engine.movie_segments((app.owned_generation(p_generation_id)).id)
$$;

revoke execute on function app.movie_segments(uuid) from public, anon;
grant execute on function app.movie_segments(uuid) to authenticated, service_role;
grant execute on function engine.movie_segments(uuid) to service_role;

-- MovieFlow's WebSocket messages, as Realtime broadcasts on the owner's private topic:
-- `status_change` (queued, processing, merging, completed, failed, canceled), `progress`
-- (overall, per scene, phase, message) and `error` (a failed scene or step).
create function engine.movie_status(p_status public.generation_status, p_step text) returns text
language sql immutable set search_path = '' as $$
  select case p_status when 'running' then case when p_step = 'merge' then 'merging' else 'processing' end
              else p_status::text end
$$;

create function engine.broadcast_movie() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  old_status text := engine.movie_status(old.status, old.step);
  new_status text := engine.movie_status(new.status, new.step);
  topic text := 'generations:' || new.user_id::text;
  scenes jsonb;
  ready integer;
begin
  if old_status <> new_status then
    perform realtime.send(jsonb_build_object('type', 'status_change', 'taskId', new.id, 'oldStatus', old_status,
                                             'newStatus', new_status, 'timestamp', now()),
                          'status_change', topic, true);
  end if;
  if old_status <> new_status or old.progress <> new.progress then
    select coalesce(jsonb_object_agg(m.scene_id, m.progress), '{}'), count(*) filter (where m.status = 'completed')
      into scenes, ready
    from engine.movie_segments(new.id) m;
    perform realtime.send(jsonb_build_object('type', 'progress', 'taskId', new.id, 'data', jsonb_build_object(
        'overall', new.progress, 'segments', scenes,
        'phase', case new_status when 'processing' then 'generating' else new_status end,
        'message', case new_status
          when 'processing' then format('%s of %s scenes ready', ready, jsonb_array_length(new.inputs -> 'scenes'))
          when 'merging' then 'Merging the scenes'
          when 'completed' then 'Your movie is ready'
          else initcap(new_status) end)),
      'progress', topic, true);
  end if;
  return null;
end $$;

create trigger generations_broadcast_movie after update on public.generations
  for each row when (new.pipeline = 'movie') execute function engine.broadcast_movie();

-- A failed movie task names its scene (null for the merge).
create function engine.broadcast_movie_error() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  run public.generations;
begin
  select * into run from public.generations where id = new.generation_id;
  perform realtime.send(jsonb_build_object('type', 'error', 'taskId', new.generation_id, 'error', jsonb_build_object(
      'segment', case when new.step in ('segment', 'normalize') then run.inputs -> 'scenes' -> new.task_index ->> 'id'
                      when new.step = 'scene_image' then run.inputs -> 'scene_images' -> new.task_index ->> 'scene_id'
                      when new.step = 'narration' then run.inputs -> 'narrations' -> new.task_index ->> 'scene_id' end,
      'step', new.step, 'code', new.error_code, 'message', new.error_message)),
    'error', 'generations:' || new.user_id::text, true);
  return null;
end $$;

create trigger tasks_failed_movie after update of status on engine.tasks
  for each row when (new.status = 'failed' and old.status <> 'failed' and new.pipeline = 'movie')
  execute function engine.broadcast_movie_error();

-- Re-runs some completed tasks of a map step in a completed run (a scene its owner
-- rejected): those tasks, the same elements of steps that map over it per element, and
-- every other step downstream start again; all other work is kept. The run is queued for
-- admission in a new billing round that reserves only the re-run work.
create function engine.reopen_tasks(p_generation_id uuid, p_step text, p_indexes integer[]) returns void
language plpgsql security definer set search_path = '' as $$
declare
  run public.generations;
  s engine.flow_steps;
  downstream text[];
  elements jsonb;
  i integer;
  unpaid integer;
begin
  select * into run from public.generations where id = p_generation_id for update;
  select * into s from engine.flow_steps where pipeline = run.pipeline and step = p_step;
  with recursive down (step) as (
    select d.step from engine.flow_deps d where d.pipeline = run.pipeline and d.depends_on = p_step
    union
    select d.step from engine.flow_deps d join down on d.depends_on = down.step where d.pipeline = run.pipeline
  )
  select coalesce(array_agg(step), '{}') into downstream from down;

  delete from engine.tasks t using engine.flow_steps f
  where t.generation_id = run.id and f.pipeline = run.pipeline and f.step = t.step
    and (t.step = p_step or t.step = any(downstream))
    and (t.task_index = any(p_indexes) or not (t.step = p_step or (f.starts_per_element and f.map_over = p_step)));
  update engine.step_states ss
  set status = case when ss.step = p_step or f.starts_per_element then 'started' else 'waiting' end,
      output = null,
      remaining_tasks = case when ss.step = p_step or f.starts_per_element then cardinality(p_indexes) end,
      task_count = case when ss.step = p_step or f.starts_per_element then ss.task_count end,
      remaining_deps = (select count(*) from engine.flow_deps d where d.pipeline = run.pipeline and d.step = ss.step
                          and (d.depends_on = p_step or d.depends_on = any(downstream)))
  from engine.flow_steps f
  where ss.generation_id = run.id and f.pipeline = run.pipeline and f.step = ss.step
    and (ss.step = p_step or ss.step = any(downstream));

  elements := case when s.map_over like 'inputs.%' then run.inputs -> substr(s.map_over, 8)
                   else (select output from engine.step_states where generation_id = run.id and step = s.map_over) end;
  foreach i in array p_indexes loop
    perform engine.insert_tasks(run, s, jsonb_build_array(elements -> i), i);
  end loop;

  unpaid := engine.unpaid_credits(run.id);
  update public.generations
  set status = 'queued', billing_round = billing_round + 1, credits_reserved = unpaid, progress = 0,
      remaining_steps = cardinality(downstream) + 1, completed_at = null, error_code = null, error_message = null
  where id = run.id
  returning * into run;
  perform engine.reserve_credits(run.user_id, run.id, run.billing_round, unpaid);
  perform engine.admit(run.user_id);
end $$;

-- POST task/{id}/retry: re-runs the named scenes' segments. Of a failed movie: every failed
-- scene must be named (any other failed work, a narration or the merge, runs again too); of
-- a completed one: scenes its owner rejected. Either way the merge runs again.
create function app.retry_segments(p_generation_id uuid, p_indexes integer[]) returns public.generations
language plpgsql security definer set search_path = '' as $$
declare
  target public.generations := app.owned_generation(p_generation_id);
  states jsonb;
begin
  if target.pipeline <> 'movie' then
    raise exception using errcode = 'RF400', message = 'Only a movie''s segments can be retried';
  end if;
  select jsonb_object_agg(m.task_index, m.status) into states from app.movie_segments(target.id) m;
  if exists (select 1 from unnest(p_indexes) i where not states ? i::text) then
    raise exception using errcode = 'RF400', message = 'segmentIds names a scene this task does not have';
  end if;
  if target.status = 'failed' then
    if exists (select 1 from jsonb_each_text(states) e where e.value = 'failed' and e.key::integer <> all(p_indexes)) then
      raise exception using errcode = 'RF400',
        message = 'Other scenes failed too: name every failed scene in segmentIds';
    end if;
    if exists (select 1 from unnest(p_indexes) i where states ->> i::text <> 'failed') then
      raise exception using errcode = 'RF400',
        message = 'Only failed scenes of a failed task can be retried; retry the completed ones after it completes';
    end if;
    return app.retry_generation(target.id);
  elsif target.status = 'completed' then
    perform engine.reopen_tasks(target.id, 'segment', p_indexes);
    select * into target from public.generations where id = target.id;
    return target;
  end if;
  raise exception using errcode = 'RF400',
    message = format('Only a failed or completed task can be retried; this one is %s', target.status);
end $$;

revoke execute on function app.retry_segments(uuid, integer[]) from public, anon;
grant execute on function app.retry_segments(uuid, integer[]) to authenticated, service_role;
grant execute on function engine.reopen_tasks(uuid, text, integer[]) to service_role;
