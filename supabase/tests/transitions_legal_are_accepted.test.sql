begin;
select plan(12);

select tests.create_user('legal@test.local') as uid \gset
select tests.new_generation(:'uid') as gid \gset

select is((select status::text || '/' || step from public.generations where id = :'gid'), 'queued/script',
  'a new generation is queued at its first step');
select isnt_empty($$ select * from public.claim_step('$$ || :'gid' || $$', 'script') $$, 'queued -> running (claim)');
select ok(public.complete_step(:'gid', (select lease_token from public.generations where id = :'gid'),
  '{"script": {"t2i_prompt": "x"}}', 'base_image'), 'running -> queued at the next step (complete)');
select isnt_empty($$ select * from public.claim_step('$$ || :'gid' || $$', 'base_image') $$, 'claim the next step');
select ok(public.complete_step(:'gid', (select lease_token from public.generations where id = :'gid'), '{}', 'video'),
  'base_image -> video without a selfie');
select isnt_empty($$ select * from public.claim_step('$$ || :'gid' || $$', 'video') $$, 'claim video');
select ok(public.await_task(:'gid', (select lease_token from public.generations where id = :'gid'), 'novita', 'task-1'),
  'running -> waiting (provider task submitted)');
select ok(public.report_task_progress(:'gid', 'task-1', 40), 'waiting -> waiting with progress');
select is((select progress from public.generations where id = :'gid'), 70::smallint, 'provider progress maps into the video step''s share');
select ok(public.resolve_task(:'gid', 'task-1', '{"provider_video_url": "http://x"}', 'store_output'),
  'waiting -> queued at store_output (task finished)');
select isnt_empty($$ select * from public.claim_step('$$ || :'gid' || $$', 'store_output') $$, 'claim store_output');
select ok(public.complete_step(:'gid', (select lease_token from public.generations where id = :'gid'), '{"video_path": "v"}', null),
  'running -> completed at the final step');

select * from finish();
rollback;
