-- Concurrent creates from separate sessions (dblink) against a balance that covers only
-- some of them: none overdraws. This file commits through dblink, so it cleans up after.
begin;
select plan(4);

select extensions.dblink_connect('setup', 'dbname=postgres host=127.0.0.1 port=54322 user=postgres');
select 'concurrent-' || gen_random_uuid() || '@test.local' as email \gset
select uid from extensions.dblink('setup', format($$ select tests.create_user(%L, 555)::text $$, :'email')) as t(uid uuid) \gset

-- Six sessions each try to create a 185 MC generation at the same moment: three fit.
select extensions.dblink_connect('c' || i, 'dbname=postgres host=127.0.0.1 port=54322 user=postgres') from generate_series(1, 6) i;
select extensions.dblink_exec('c' || i, format('set request.jwt.claims = %L',
  json_build_object('sub', :'uid', 'role', 'authenticated'))) from generate_series(1, 6) i;
select extensions.dblink_send_query('c' || i, $q$
  select id::text from app.create_generation('cinematic', '{"idea": "race", "duration": 5, "aspect_ratio": "9:16"}')
$q$) from generate_series(1, 6) i;

create temp table outcomes as
select i, (select count(*) from extensions.dblink_get_result('c' || i, false) as r(id text)) as rows_back,
       extensions.dblink_error_message('c' || i) as err
from generate_series(1, 6) i;

select is((select count(*)::int from public.generations where user_id = :'uid'), 3, 'exactly three creates succeeded');
select is((select balance from public.credit_accounts where user_id = :'uid'), 0::bigint, 'the balance reached zero, not below');
select is((select count(*)::int from outcomes where err like '%balance is%'), 3, 'the other three were refused with QUOTA_EXCEEDED');
select is((select sum(amount)::int from public.credit_ledger where user_id = :'uid' and kind = 'reserve'), 555,
  'the reserve rows add up to the grant');

-- The live stack is working on these runs (tests.remove_users takes it into account).
select extensions.dblink_exec('setup', format('do $d$ begin perform tests.remove_users(%L); end $d$', :'email'));
select extensions.dblink_disconnect(name) from unnest(extensions.dblink_get_connections()) name;
select * from finish();
rollback;
