begin;
select plan(12);

select tests.create_user('credits@test.local', 1000) as uid \gset

-- Completed: reserve then capture, once.
select tests.new_generation(:'uid') as done \gset
select is((select balance from public.credit_accounts where user_id = :'uid'), 815::bigint, 'create reserves the quoted 185 MC');
select public.complete_step(:'done', tests.run_to_store_output(:'done'), '{"video_path": "v"}', null);
select results_eq($$ select kind::text, amount from public.credit_ledger where generation_id = '$$ || :'done' || $$' order by id $$,
  $$ values ('reserve', 185::bigint), ('capture', 185::bigint) $$, 'completion captures what was reserved');
select is((select credits_charged from public.generations where id = :'done'), 185, 'the row shows the charge');
select is((select balance from public.credit_accounts where user_id = :'uid'), 815::bigint, 'capture does not move the balance again');

-- Failed: release once, even if failure is reported twice.
select tests.new_generation(:'uid') as failed \gset
update public.generations set status = 'failed', error_code = 'TASK_FAILED' where id = :'failed';
select is((select balance from public.credit_accounts where user_id = :'uid'), 815::bigint, 'failure releases the reservation');
select is((select count(*)::int from public.credit_ledger where generation_id = :'failed' and kind = 'release'), 1, 'one release row');

-- Canceled: release once.
select tests.new_generation(:'uid') as canceled \gset
select tests.authenticate_as(:'uid');
select lives_ok($$ select public.cancel_generation('$$ || :'canceled' || $$') $$, 'the owner cancels');
select throws_ok($$ select public.cancel_generation('$$ || :'canceled' || $$') $$, 'RF400', null, 'a second cancel is refused');
select tests.clear_authentication();
select is((select balance from public.credit_accounts where user_id = :'uid'), 815::bigint, 'cancel releases the reservation once');

-- Retry: a new billing round reserves again, and its failure releases again.
select tests.authenticate_as(:'uid');
select lives_ok($$ select public.retry_generation('$$ || :'failed' || $$') $$, 'the owner retries a failed generation');
select tests.clear_authentication();
select is((select balance from public.credit_accounts where user_id = :'uid'), 630::bigint, 'retry reserves for round 2');
update public.generations set status = 'failed', error_code = 'TASK_FAILED' where id = :'failed';
select results_eq($$ select billing_round, kind::text from public.credit_ledger where generation_id = '$$ || :'failed' || $$' order by id $$,
  $$ values (1, 'reserve'), (1, 'release'), (2, 'reserve'), (2, 'release') $$, 'each round reserves and releases exactly once');

select * from finish();
rollback;
