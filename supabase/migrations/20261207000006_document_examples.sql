-- What the documents promise, as users copy them (issue 25).

-- Progress a client sees (25.7) --------------------------------------------------------------
-- One computation for every channel: Realtime broadcasts (`generation_update`, MovieFlow's
-- `progress`) and GET generations/{id} and task/{id} read app.progress_view (generation/status
-- the same stored percent).
-- The stored progress never moves backwards within a round (refresh_progress keeps the max);
-- each change of progress, status or step bumps `progress_revision` under the row lock, so
-- revisions follow commit order: a client that got a broadcast while a GET was in flight keeps
-- the view with the higher revision and never shows a number going back. The time left is
-- estimated when progress moves (time since the run started, scaled by what is left).
alter table public.generations
  add column progress_revision bigint not null default 0,
  add column eta_seconds integer;

alter table engine.flow_steps add column label text;
update engine.flow_steps set label = case step
    when 'script' then 'Writing the script'
    when 'base_image' then 'Painting the first frame'
    when 'face_merge' then 'Putting your face in'
    when 'video' then 'Animating the video'
    when 'store_output' then 'Saving the video'
    when 'scene_image' then 'Drawing the scene images'
    when 'narration' then 'Recording the narration'
    when 'segment' then 'Generating the scenes'
    when 'normalize' then 'Preparing the scenes'
    when 'mix_audio' then 'Mixing the soundtrack'
    when 'merge' then 'Merging the scenes'
  end;

create function engine.stamp_progress() returns trigger
language plpgsql set search_path = '' as $$
begin
  if new.progress is distinct from old.progress or new.status is distinct from old.status or new.step is distinct from old.step then
    new.progress_revision := old.progress_revision + 1;
    new.eta_seconds := case
      when new.status in ('completed', 'failed', 'canceled') then 0
      when new.status = 'running' and new.progress between 1 and 99 and new.started_at is not null then
        ceil(extract(epoch from clock_timestamp() - new.started_at) * (100 - new.progress) / new.progress)::integer
    end;
  end if;
  return new;
end $$;

create trigger generations_stamp_progress before update on public.generations
  for each row execute function engine.stamp_progress();

-- A run's phase in words: a movie's phases are MovieFlow's `currentPhase` (queued,
-- generating_segments, merging, then its end), the other pipelines' the step at work.
create function app.progress_view(g public.generations) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'progress', g.progress,
    'revision', g.progress_revision,
    'phase', p.phase,
    'phaseLabel', coalesce(case p.phase
        when 'queued' then 'Waiting for a free slot'
        when 'processing' then 'Starting'
        when 'generating_segments' then 'Generating the scenes'
        when 'merging' then 'Merging the scenes'
        when 'completed' then 'Ready'
        when 'failed' then 'Failed'
        when 'canceled' then 'Canceled' end,
      (select f.label from engine.flow_steps f where f.pipeline = g.pipeline and f.step = g.step), p.phase),
    'etaSeconds', g.eta_seconds)
  from (select case
      when g.status = 'running' and g.pipeline = 'movie' then case when g.step = 'merge' then 'merging' else 'generating_segments' end
      when g.status = 'running' then coalesce(g.step, 'processing')
      else g.status::text end as phase) p
$$;
grant execute on function app.progress_view(public.generations) to authenticated, service_role;

create or replace function public.broadcast_generation() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  view jsonb := app.progress_view(new);
begin
  -- A new step is a new phase to show, even when the percent stays.
  if tg_op = 'UPDATE' and new.status = old.status and new.progress = old.progress and new.step is not distinct from old.step then
    return null;
  end if;
  if tg_op = 'INSERT' or new.status <> old.status then
    insert into public.generation_events (generation_id, user_id, status, progress, message)
    values (new.id, new.user_id, new.status::text, new.progress,
            case when new.status in ('failed', 'canceled') then new.error_message end);
  end if;
  perform realtime.send(
    jsonb_build_object('id', new.id, 'status', app.api_status(new.status::text), 'step', new.step,
      'progress', new.progress, 'revision', view -> 'revision', 'phase', view -> 'phase', 'phase_label', view -> 'phaseLabel',
      'eta_seconds', view -> 'etaSeconds', 'error_code', new.error_code, 'error_message', new.error_message),
    'generation_update', 'generations:' || new.user_id::text, true);
  return null;
end $$;

create or replace function engine.broadcast_movie() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  old_status text := engine.movie_status(old.status, old.step);
  new_status text := engine.movie_status(new.status, new.step);
  topic text := 'generations:' || new.user_id::text;
  view jsonb := app.progress_view(new);
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
        'overall', new.progress, 'segments', scenes, 'revision', view -> 'revision',
        'phase', view -> 'phase', 'phaseLabel', view -> 'phaseLabel', 'etaSeconds', view -> 'etaSeconds',
        'message', case new_status
          when 'processing' then format('%s of %s scenes ready', ready, jsonb_array_length(new.inputs -> 'scenes'))
          when 'merging' then 'Merging the scenes'
          when 'completed' then 'Your movie is ready'
          else initcap(new_status) end)),
      'progress', topic, true);
  end if;
  return null;
end $$;

-- The MovieFlow document's examples (25.1) ---------------------------------------------------
-- The retry's `reason` is kept in the task's logs (GET task/{id} `logs`).
create function app.log_retry_reason(p_generation_id uuid, p_reason text, p_segment_ids text[]) returns void
language sql security definer set search_path = '' as $$
  insert into public.generation_events (generation_id, user_id, status, progress, message)
  select g.id, g.user_id, 'retry_requested', g.progress,
         p_reason || case when cardinality(p_segment_ids) > 0 then ' (' || array_to_string(p_segment_ids, ', ') || ')' else '' end
  from app.owned_generation(p_generation_id) g
$$;
revoke execute on function app.log_retry_reason(uuid, text, text[]) from public, anon;
grant execute on function app.log_retry_reason(uuid, text, text[]) to authenticated, service_role;

-- The music library: a public bucket of tracks named as specs name them (`chinese_traditional`
-- for "chinese_traditional.mp3"), stored as FLAC 48 kHz stereo. A movie's track is copied into
-- its owner's assets folder at first use (the media worker reads music from there). On the
-- local stack the Storage stand-in declares the same buckets and this block is skipped.
do $$
begin
  if to_regclass('storage.buckets') is null then
    return;
  end if;
  insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
  values ('music', 'music', true, 52428800, array['audio/flac'])
  on conflict (id) do nothing;
  update storage.buckets set allowed_mime_types = array_append(allowed_mime_types, 'audio/flac')
  where id = 'assets' and not 'audio/flac' = any(allowed_mime_types);
end $$;
