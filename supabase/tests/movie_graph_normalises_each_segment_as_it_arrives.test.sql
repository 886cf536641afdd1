-- The movie pipeline's graph: a segment's normalisation starts as soon as that segment is
-- stored (not when all are), the merge waits for every normalisation and the soundtrack, Jimeng
-- tasks are polled every 2 s, the media worker is woken by NOTIFY (not HTTP), and a
-- rejected scene of a completed movie re-runs alone, charged alone.
begin;
select plan(21);

select tests.create_user('movie@test.local', 100000) as uid \gset
select set_config('request.jwt.claims', json_build_object('sub', :'uid', 'role', 'authenticated')::text, true);
select id as gid from app.create_generation('movie', jsonb_build_object(
  'project_name', 'p', 'platform', 'douyin', 'aspect_ratio', '9:16', 'width', 1080, 'height', 1920, 'fps', 24,
  'hd', true, 'transitions', true, 'watermark', null, 'music_path', null, 'merge', true,
  'scenes', jsonb_build_array(
    jsonb_build_object('id', 'a', 'prompt', 'a', 'duration', 10, 'frames', 241, 'mode', 'i2v_first', 'aspect_ratio', '9:16', 'seed', -1),
    jsonb_build_object('id', 'b', 'prompt', 'b', 'duration', 5, 'frames', 121, 'mode', 't2v', 'aspect_ratio', '9:16', 'seed', -1),
    jsonb_build_object('id', 'c', 'prompt', 'c', 'duration', 10, 'frames', 241, 'mode', 't2v', 'aspect_ratio', '9:16', 'seed', -1)),
  'scene_images', jsonb_build_array(jsonb_build_object('scene_id', 'a', 'prompt', 'a')),
  'narrations', jsonb_build_array(jsonb_build_object('scene_id', 'b', 'text', 'hi', 'voice', 'narrator', 'emotion', null)))) \gset
select set_config('request.jwt.claims', '', true);

select is((select credits_reserved from public.generations where id = :'gid'), 300 + 150 + 300 + 20 + 5 + 10,
  'the quote prices each segment by tier and length, the scene image, the narration and the merge');
select is((select array_agg(step order by step) from engine.tasks where generation_id = :'gid'),
  array['narration', 'scene_image'], 'scene images and narrations start first; segments wait for the scene images');

select tests.complete(:'gid', 'scene_image', '{"scene_id": "a", "image_path": "x.png"}');
select is((select count(*)::int from engine.tasks where generation_id = :'gid' and step = 'segment'), 3,
  'one segment task per scene once the scene images exist');
select is((select remaining_tasks from engine.step_states where generation_id = :'gid' and step = 'normalize'), 3,
  'the normalisation step is started with one task per segment to come');

select c.task_id as seg1, c.lease_token as seg1_lease from tests.claim(:'gid', 'segment') c \gset
select engine.await_provider(:seg1, :'seg1_lease', 'volcengine', 'jimeng_i2v_first_v30_1080:77');
select ok((select next_poll_at between now() + interval '1.5 seconds' and now() + interval '2.5 seconds'
           from engine.tasks where id = :seg1), 'a Jimeng task (no webhook) is polled 2 s later');

select max(id) as before from net.http_request_queue \gset
select engine.complete_task(:seg1, 'jimeng_i2v_first_v30_1080:77', '{"provider_video_url": "https://v/1.mp4"}');
select is((select element from engine.tasks where generation_id = :'gid' and step = 'normalize' and task_index = 0),
  '{"provider_video_url": "https://v/1.mp4"}'::jsonb, 'its normalisation is queued at once, with the stored segment');
select is((select count(*)::int from engine.tasks where generation_id = :'gid' and step = 'normalize'), 1,
  'only that segment''s normalisation: the others are still generating');
select is((select count(*)::int from net.http_request_queue where id > coalesce(:before, 0) and url like '%/media-worker'), 0,
  'the media worker is not called over HTTP (it listens for NOTIFY engine_wake)');
select ok((select posted_at is not null from engine.wakeups where handler = 'media-worker'), 'the media worker was woken');

select tests.complete(:'gid', 'normalize', '{"segment_path": "s/a.mp4", "normalized_path": "n/a.ts", "seconds": 10}');
select is((select status from engine.step_states where generation_id = :'gid' and step = 'merge'), 'waiting',
  'the merge waits for every segment');

-- The other two segments (claimed with the first) and the narration.
do $$
declare
  c record;
  gid uuid := (select id from public.generations where user_id = (select id from auth.users where email = 'movie@test.local'));
begin
  for c in select id, lease_token, task_index from engine.tasks
           where generation_id = gid and step = 'segment' and status = 'running' order by task_index loop
    perform engine.await_provider(c.id, c.lease_token, 'volcengine', 'k:' || c.task_index);
    perform engine.complete_task(c.id, 'k:' || c.task_index, jsonb_build_object('provider_video_url', 'https://v/' || c.task_index));
    perform tests.complete(gid, 'normalize', jsonb_build_object('normalized_path', 'n/' || c.task_index, 'seconds', 5));
  end loop;
  perform tests.complete(gid, 'narration', '{"scene_id": "b", "audio_path": "b.mp3", "duration_ms": 1200}');
end $$;
select is((select count(*)::int from engine.tasks where generation_id = :'gid' and step = 'merge'), 0,
  'the narration is done: the soundtrack is mixed, the merge waits for it');
select tests.complete(:'gid', 'mix_audio', '{"audio_path": "a.m4a", "seconds": 25}');
select is((select (element is null, handler) from engine.tasks where generation_id = :'gid' and step = 'merge'),
  (true, 'media-worker'::text), 'the merge starts once every normalisation and the soundtrack are done');
select task_id as merge_id, lease_token as merge_lease, deps -> 'normalize' as normalized
from engine.start_tasks('media-worker', 100) where generation_id = :'gid' and step = 'merge' \gset
select is(:'normalized'::jsonb, '[{"segment_path": "s/a.mp4", "normalized_path": "n/a.ts", "seconds": 10},
  {"normalized_path": "n/1", "seconds": 5}, {"normalized_path": "n/2", "seconds": 5}]'::jsonb,
  'the merge sees every normalised segment, in scene order');
select engine.complete_task(:merge_id, :'merge_lease', '{"video_path": "m.mp4", "poster_path": "p.jpg", "seconds": 25}');
select is((select (status, outputs ->> 'video_path') from public.generations where id = :'gid'),
  ('completed'::public.generation_status, 'm.mp4'::text), 'the movie completes with its video');
select is((select credits_charged from public.generations where id = :'gid'), 785, 'every priced task was charged once');

-- The owner rejects scene b: only it, its normalisation and the merge run again.
select set_config('request.jwt.claims', json_build_object('sub', :'uid', 'role', 'authenticated')::text, true);
select app.retry_segments(:'gid', array[1]);
select set_config('request.jwt.claims', '', true);
select is((select (status, billing_round, credits_reserved) from public.generations where id = :'gid'),
  ('running'::public.generation_status, 2, 160), 'the movie runs again, reserving only segment b (150) and the merge (10)');
select is((select array_agg(step || ':' || task_index || ':' || status order by step, task_index) from engine.tasks
           where generation_id = :'gid' and status <> 'completed'), array['segment:1:queued'],
  'only segment b is queued; the other segments, normalisations, the narration and the soundtrack keep their work');
do $$
declare
  c record;
  gid uuid := (select id from public.generations where user_id = (select id from auth.users where email = 'movie@test.local'));
begin
  c := tests.claim(gid, 'segment');
  perform engine.await_provider(c.task_id, c.lease_token, 'volcengine', 'k:again');
  perform engine.complete_task(c.task_id, 'k:again', '{"provider_video_url": "https://v/again"}');
end $$;
select is((select element ->> 'provider_video_url' from engine.tasks where generation_id = :'gid' and step = 'normalize' and task_index = 1),
  'https://v/again', 'the re-made segment is normalised again');
select tests.complete(:'gid', 'normalize', '{"normalized_path": "n/again", "seconds": 5}');
select task_id as merge_id, lease_token as merge_lease,
       (select jsonb_agg(x ->> 'normalized_path') from jsonb_array_elements(deps -> 'normalize') x) as normalized
from engine.start_tasks('media-worker', 100) where generation_id = :'gid' and step = 'merge' \gset
select is(:'normalized'::jsonb, '["n/a.ts", "n/again", "n/2"]'::jsonb,
  'the merge joins the kept segments and the new one, in scene order');
select engine.complete_task(:merge_id, :'merge_lease', '{"video_path": "m.mp4", "poster_path": "p.jpg", "seconds": 25}');
select is((select (status, credits_charged) from public.generations where id = :'gid'),
  ('completed'::public.generation_status, 945), 'completed again, charged 160 more');
select is((select count(*)::int from public.credit_ledger where generation_id = :'gid' and kind = 'capture' and billing_round = 2), 2,
  'the second round captured two tasks');

select * from finish();
rollback;
