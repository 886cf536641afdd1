-- Cancel at every step of both pipelines: the charge is exactly the price of the tasks that
-- had started at the provider, everything else goes back, and nothing runs afterwards.
begin;
select plan(14);
select tests.free_capacity();
select tests.create_user('cancel-steps@test.local', 100000) as uid \gset

-- Advances a run until `p_stop` is started (running, or waiting for a video), then cancels.
create function pg_temp.cancel_at(p_pipeline public.pipeline_kind, p_inputs jsonb, p_stop text, p_wait boolean)
returns uuid language plpgsql as $$
declare
  gid uuid;
  c record;
begin
  perform tests.authenticate_as((select id from auth.users where email = 'cancel-steps@test.local'));
  gid := (app.create_generation(p_pipeline, p_inputs)).id;
  perform tests.clear_authentication();
  loop
    select step into c from engine.tasks where generation_id = gid and status = 'queued';
    c := tests.claim(gid, c.step);
    exit when (select step from engine.tasks where id = c.task_id) = p_stop and not p_wait;
    if (select step from engine.tasks where id = c.task_id) = 'video' then
      perform engine.await_provider(c.task_id, c.lease_token, 'novita', 'vid-' || gid);
      exit when p_stop = 'video';
      perform engine.complete_task(c.task_id, 'vid-' || gid, '{"provider_video_url": "u"}');
    else
      perform engine.complete_task(c.task_id, c.lease_token::text, '{}');
    end if;
  end loop;
  perform tests.authenticate_as((select id from auth.users where email = 'cancel-steps@test.local'));
  perform app.cancel_generation(gid);
  perform tests.clear_authentication();
  return gid;
end $$;

create temp table stops (pipeline public.pipeline_kind, inputs jsonb, stop text, wait boolean, charged integer, gid uuid);
insert into stops values
  ('cinematic', '{"idea": "x", "duration": 5, "selfie_path": "a/b.jpg"}', 'script', false, 5, null),
  ('cinematic', '{"idea": "x", "duration": 5, "selfie_path": "a/b.jpg"}', 'base_image', false, 25, null),
  ('cinematic', '{"idea": "x", "duration": 5, "selfie_path": "a/b.jpg"}', 'face_merge', false, 40, null),
  ('cinematic', '{"idea": "x", "duration": 5, "selfie_path": "a/b.jpg"}', 'video', false, 200, null),
  ('cinematic', '{"idea": "x", "duration": 5, "selfie_path": "a/b.jpg"}', 'video', true, 200, null),
  ('cinematic', '{"idea": "x", "duration": 5, "selfie_path": "a/b.jpg"}', 'store_output', false, 200, null),
  ('model_direct', '{"model_id": "sora-2", "duration_seconds": 10}', 'video', true, 30, null),
  ('model_direct', '{"model_id": "sora-2", "duration_seconds": 10}', 'store_output', false, 30, null);
update stops set gid = pg_temp.cancel_at(pipeline, inputs, stop, wait);

select is((select g.credits_charged from public.generations g where g.id = s.gid), s.charged,
          format('%s canceled at %s%s: charged %s MC', s.pipeline, s.stop, case when s.wait then ' (waiting)' else '' end, s.charged))
from stops s;
select is((select count(*)::int from engine.tasks t join stops s on s.gid = t.generation_id
           where t.status in ('queued', 'running', 'waiting')), 0, 'no task of a canceled run is left to run');
select is((select count(*)::int from public.generations g join stops s on s.gid = g.id where g.status = 'canceled'), 8, 'all eight are canceled');
select is((select count(*)::int from public.credit_ledger l join stops s on s.gid = l.generation_id
           group by l.generation_id, l.billing_round, l.kind, l.step, l.task_index having count(*) > 1), null, 'nothing settled twice');
select is((select balance from public.credit_accounts where user_id = :'uid'),
          100000 - (select sum(charged) from stops)::bigint, 'the balance lost exactly the started work');
select is((select count(*)::int from public.generations g join stops s on s.gid = g.id
           where g.credits_charged + (select coalesce(sum(amount), 0) from public.credit_ledger l where l.generation_id = g.id and kind = 'release')
                 <> g.credits_reserved), 0, 'for each, charged + released = reserved');
select is((select count(*)::int from (select distinct handler from engine.flow_steps) h
           cross join lateral engine.start_tasks(h.handler) s join stops t on t.gid = s.generation_id), 0,
  'nothing of theirs can be claimed');
select * from finish();
rollback;
