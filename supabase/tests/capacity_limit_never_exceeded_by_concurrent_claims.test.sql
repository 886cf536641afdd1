-- Provider capacity under concurrent claims from separate sessions (dblink): never more in
-- flight than the endpoint's maximum, never more requests per window than its limit.
-- Commits through dblink (a test pipeline and endpoint of its own), so it cleans up after.
begin;
select plan(5);

select extensions.dblink_connect('setup', 'dbname=postgres host=127.0.0.1 port=54322 user=postgres');
create function pg_temp.clean_up() returns text language sql as $$
  select extensions.dblink_exec('setup', $c$
    update engine.settings set max_active_generations_per_user = 3;
    do $d$ begin perform tests.remove_users('capacity-%@test.local'); end $d$;
    delete from engine.flow_steps where step = 'capacity_probe';
    delete from engine.provider_capacity where key = 'test:capacity';$c$)
$$;
select pg_temp.clean_up();
select extensions.dblink_exec('setup', $$
  insert into engine.provider_capacity (key, max_in_flight, max_requests, window_seconds, source)
  values ('test:capacity', 3, 5, 600, 'capacity test');
  insert into engine.flow_steps (pipeline, step, handler, capacity_key, weight)
  values ('movie', 'capacity_probe', 'capacity-test', 'test:capacity', 1);
$$);
select uid from extensions.dblink('setup', $$
  select tests.create_user('capacity-' || gen_random_uuid() || '@test.local', 100000)::text $$) as t(uid uuid) \gset
select extensions.dblink_exec('setup', format($q$
  do $d$ begin perform tests.new_graph_run(%L, 0) from generate_series(1, 12); end $d$ $q$, :'uid'));

select is((select count(*)::int from engine.tasks where user_id = :'uid'), 3,
  'only three runs are admitted for this user (the others wait their turn)');

-- Six sessions claim at the same moment; returns how many tasks they started in all.
select extensions.dblink_connect('c' || i, 'dbname=postgres host=127.0.0.1 port=54322 user=postgres') from generate_series(1, 6) i;
create function pg_temp.claim_round() returns integer language plpgsql as $$
declare
  total integer := 0;
  n bigint;
begin
  perform extensions.dblink_send_query('c' || i, $q$ select count(*) from engine.start_tasks('capacity-test', 10) $q$)
  from generate_series(1, 6) i;
  for i in 1..6 loop
    select r.n into n from extensions.dblink_get_result('c' || i) as r(n bigint);
    total := total + n;
    perform * from extensions.dblink_get_result('c' || i) as r(n bigint);  -- the end of the result
  end loop;
  return total;
end $$;
select extensions.dblink_exec('setup', format($q$
  update engine.settings set max_active_generations_per_user = 100;
  do $d$ begin perform engine.admit(%L); end $d$ $q$, :'uid'));
select is(pg_temp.claim_round(), 3, '6 concurrent claimers start 3 tasks in total: the in-flight maximum');
select is((select count(*)::int from engine.tasks where user_id = :'uid' and status = 'running'), 3, 'three run');
select ok((select count(*) from engine.tasks where user_id = :'uid' and status = 'queued' and blocked_on = 'test:capacity') > 0,
  'the others wait for a slot, visibly');

-- All three finish: three slots are free, but the window (5 requests) lets two more through.
select extensions.dblink_exec('setup', format($q$
  do $d$ begin perform engine.complete_task(id, lease_token::text, '{}') from engine.tasks
                where user_id = %L and status = 'running'; end $d$;
  update engine.tasks set next_attempt_at = now() where user_id = %L and status = 'queued'; $q$, :'uid', :'uid'));
select is(pg_temp.claim_round(), 2,
  'with every slot free, only two more start: 5 requests in the window, the limit');

select pg_temp.clean_up();
select extensions.dblink_disconnect(name) from unnest(extensions.dblink_get_connections()) name;
select * from finish();
rollback;
