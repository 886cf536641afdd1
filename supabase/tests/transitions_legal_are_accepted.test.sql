begin;
select plan(14);

select tests.create_user('legal@test.local') as uid \gset
select tests.new_generation(:'uid') as gid \gset

select is((select status::text || '/' || step from public.generations where id = :'gid'), 'running/script',
  'a new generation is admitted and its first step is ready');
select is((select status::text from engine.tasks where generation_id = :'gid'), 'queued', 'one queued task: script');
select * from tests.claim(:'gid', 'script') \gset c_
select is((tests.task(:'gid', 'script')).status::text, 'running', 'queued -> running (claim)');
select ok(engine.heartbeat(:c_task_id, :'c_lease_token'), 'running -> running (heartbeat renews the lease)');
select ok(engine.complete_task(:c_task_id, :'c_lease_token', '{"script": {"t2i_prompt": "x"}}'), 'running -> completed');
select is((select string_agg(step || ':' || status, ',' order by step) from engine.step_states where generation_id = :'gid'),
  'base_image:started,face_merge:waiting,script:completed,store_output:waiting,video:waiting',
  'the database starts the next step from the graph');
select tests.complete(:'gid', 'base_image', '{"base_image_path": "b"}');
select is((select status from engine.step_states where generation_id = :'gid' and step = 'face_merge'), 'skipped',
  'face_merge is skipped without a selfie');
select * from tests.claim(:'gid', 'video') \gset v_
select ok(engine.await_provider(:v_task_id, :'v_lease_token', 'novita', 'task-1'), 'running -> waiting (provider task submitted)');
select ok(engine.report_provider_progress(:v_task_id, 'task-1', 40), 'waiting -> waiting with the provider''s progress');
select is((select progress from public.generations where id = :'gid'), 51::smallint,
  'progress = finished weights (script 5 + image 10 + skipped merge 10) + 40% of the video''s 65');
select ok(engine.complete_task(:v_task_id, 'task-1', '{"provider_video_url": "http://x"}'), 'waiting -> completed (task finished)');
select * from tests.claim(:'gid', 'store_output') \gset s_
select ok(engine.complete_task(:s_task_id, :'s_lease_token', '{"video_path": "v"}'), 'the final task completes');
select is((select status::text || '/' || progress from public.generations where id = :'gid'), 'completed/100',
  'the run completes when no step remains');
select is((select outputs from public.generations where id = :'gid'),
  '{"script": {"t2i_prompt": "x"}, "base_image_path": "b", "video_path": "v"}'::jsonb,
  'published outputs are merged; the provider URL is not');

select * from finish();
rollback;
