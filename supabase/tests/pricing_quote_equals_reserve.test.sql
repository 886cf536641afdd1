begin;
select plan(6);

select tests.create_user('pricing@test.local', 100000) as uid \gset
select results_eq($$ select credits from public.price_quote('cinematic', '{"duration": 5}') $$, $$ values (185) $$, '5 s without selfie');
select results_eq($$ select credits from public.price_quote('cinematic', '{"duration": 10, "selfie_path": "a/b.jpg"}') $$, $$ values (360) $$,
  '10 s with selfie');
select throws_ok($$ select public.price_quote('cinematic', '{"duration": 7}') $$, 'RF400', null, 'an unpriced duration is refused');
select tests.new_generation(:'uid', 10) as gid \gset
select is((select credits_reserved from public.generations where id = :'gid'),
  (select credits from public.price_quote('cinematic', '{"duration": 10}')), 'the reservation is the quote');
select is((select amount::int from public.credit_ledger where generation_id = :'gid' and kind = 'reserve'), 345, 'and the ledger says so');
select results_eq($$ select explain from public.price_quote('cinematic', '{"duration": 5}') $$,
  $$ values ('script 5 MC + base image 20 MC + 5 s video 160 MC = 185 MC') $$, 'the quote explains its lines');

select * from finish();
rollback;
