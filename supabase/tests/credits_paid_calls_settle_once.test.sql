-- A synchronous provider call (a spec draft, an image edit): reserved before it, then
-- captured or refunded exactly once, however often it is settled; a short balance is refused
-- before anything is written.
begin;
select plan(6);

select tests.create_user('paid-calls@test.local', 30) as uid \gset
select tests.authenticate_as(:'uid');

select app.start_paid_call('movie', 'image_edit') as edit \gset
select app.settle_paid_call(:'edit', true);
select app.settle_paid_call(:'edit', true);
select app.settle_paid_call(:'edit', false);
select app.start_paid_call('movie', 'spec_draft') as draft \gset
select app.settle_paid_call(:'draft', false);
select app.settle_paid_call(:'draft', false);
select throws_ok($$ select app.start_paid_call('movie', 'image_edit') $$, 'RF402',
  'The image edit costs 20 MC and your balance is 10 MC', 'a short balance is refused');
select throws_ok($$ select app.start_paid_call('movie', 'no_such_call') $$, 'RF400', null, 'an unpriced call is refused');
select tests.clear_authentication();

select results_eq(
  $$ select kind::text, step, amount from public.credit_ledger where user_id = '$$ || :'uid' || $$' and call_id is not null order by id $$,
  $$ values ('reserve', 'image_edit', 20::bigint), ('capture', 'image_edit', 20::bigint),
            ('reserve', 'spec_draft', 5::bigint), ('refund', 'spec_draft', 5::bigint) $$,
  'one reserve and one capture or refund per call');
select is((select balance from public.credit_accounts where user_id = :'uid'), 10::bigint, 'the edit is paid, the failed draft given back');

-- Another user cannot settle someone's call.
select tests.create_user('paid-calls-other@test.local', 30) as other \gset
select tests.authenticate_as(:'uid');
select app.start_paid_call('movie', 'spec_draft') as mine \gset
select tests.authenticate_as(:'other');
select app.settle_paid_call(:'mine', false);
select tests.clear_authentication();
select is((select status from engine.paid_calls where id = :'mine'), 'reserved', 'another user settles nothing');

-- A call whose process died is refunded once it is 10 minutes old, at the owner's next call.
update engine.paid_calls set created_at = now() - interval '11 minutes' where id = :'mine';
select tests.authenticate_as(:'uid');
select app.start_paid_call('model_direct', 'prompt_optimization');
select tests.clear_authentication();
select is((select status from engine.paid_calls where id = :'mine'), 'refunded', 'a stale reservation is refunded');

select * from finish();
rollback;
