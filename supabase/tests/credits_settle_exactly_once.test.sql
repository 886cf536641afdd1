begin;
select plan(13);

select tests.create_user('credits@test.local', 1000) as uid \gset

-- Completed: reserve at create, each task captures its price once its work starts.
select tests.new_generation(:'uid') as done \gset
select is((select balance from public.credit_accounts where user_id = :'uid'), 815::bigint, 'create reserves the quoted 185 MC');
select * from tests.run_to_store_output(:'done') \gset s_
select engine.complete_task(:s_task_id, :'s_lease_token', '{"video_path": "v"}');
select results_eq($$ select kind::text, step, amount from public.credit_ledger where generation_id = '$$ || :'done' || $$' order by id $$,
  $$ values ('reserve', null, 185::bigint), ('capture', 'script', 5::bigint), ('capture', 'base_image', 20::bigint),
            ('capture', 'video', 160::bigint) $$, 'each task captured its own price, once');
select is((select credits_charged from public.generations where id = :'done'), 185, 'the row shows the charge');
select is((select balance from public.credit_accounts where user_id = :'uid'), 815::bigint, 'capture does not move the balance again');

-- A failed task: its capture is refunded (once, however often failure is reported), the
-- unstarted rest released.
select tests.new_generation(:'uid') as failed \gset
select * from tests.claim(:'failed', 'script') \gset f_
select engine.fail_task(:f_task_id, :'f_lease_token', 'CONTENT_VIOLATION', 'blocked');
select ok(not engine.fail_task(:f_task_id, :'f_lease_token', 'CONTENT_VIOLATION', 'blocked again'), 'a second failure report changes nothing');
select is((select balance from public.credit_accounts where user_id = :'uid'), 815::bigint, 'failure gives back everything not kept');
select results_eq($$ select kind::text, amount from public.credit_ledger where generation_id = '$$ || :'failed' || $$' order by id $$,
  $$ values ('reserve', 185::bigint), ('capture', 5::bigint), ('refund', 5::bigint), ('release', 180::bigint) $$,
  'one capture, one refund, one release');

-- Canceled before any work: release once.
select tests.new_generation(:'uid') as canceled \gset
select tests.authenticate_as(:'uid');
select lives_ok($$ select app.cancel_generation('$$ || :'canceled' || $$') $$, 'the owner cancels');
select throws_ok($$ select app.cancel_generation('$$ || :'canceled' || $$') $$, 'RF400', null, 'a second cancel is refused');
select tests.clear_authentication();
select is((select balance from public.credit_accounts where user_id = :'uid'), 815::bigint, 'cancel releases the reservation once');

-- Retry: round 2 reserves only the unpaid rest (all of it here: the failed task was refunded).
select tests.authenticate_as(:'uid');
select lives_ok($$ select app.retry_generation('$$ || :'failed' || $$') $$, 'the owner retries a failed generation');
select tests.clear_authentication();
select is((select balance from public.credit_accounts where user_id = :'uid'), 630::bigint, 'retry reserves for round 2');
select * from tests.claim(:'failed', 'script') \gset g_
select engine.fail_task(:g_task_id, :'g_lease_token', 'CONTENT_VIOLATION', 'blocked');
select results_eq($$ select billing_round, kind::text from public.credit_ledger where generation_id = '$$ || :'failed' || $$' order by id $$,
  $$ values (1, 'reserve'), (1, 'capture'), (1, 'refund'), (1, 'release'), (2, 'reserve'), (2, 'capture'), (2, 'refund'), (2, 'release') $$,
  'each round settles each task exactly once');

select * from finish();
rollback;
