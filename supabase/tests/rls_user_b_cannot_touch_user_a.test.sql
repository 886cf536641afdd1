begin;
select plan(16);

select tests.create_user('alice@test.local') as alice \gset
select tests.create_user('bob@test.local') as bob \gset
select tests.new_generation(:'alice') as gen \gset
select realtime.send('{"x": 1}', 'generation_update', 'generations:' || :'alice', true);

select tests.authenticate_as(:'bob');
select is_empty($$ select * from public.generations where id = '$$ || :'gen' || $$' $$, 'Bob cannot read Alice''s generation');
select is_empty($$ select * from public.generation_events where generation_id = '$$ || :'gen' || $$' $$, 'Bob cannot read Alice''s events');
select is_empty($$ select * from public.credit_ledger where user_id = '$$ || :'alice' || $$' $$, 'Bob cannot read Alice''s ledger');
select is_empty($$ select * from public.credit_accounts where user_id = '$$ || :'alice' || $$' $$, 'Bob cannot read Alice''s balance');
select throws_ok($$ select app.cancel_generation('$$ || :'gen' || $$') $$, 'RF404', 'Generation not found', 'Bob cannot cancel it');
select throws_ok($$ select app.retry_generation('$$ || :'gen' || $$') $$, 'RF404', 'Generation not found', 'Bob cannot retry it');
select throws_ok($$ update public.generations set status = 'canceled' where id = '$$ || :'gen' || $$' $$, '42501', null,
  'Bob cannot update the table directly');
select throws_ok($$ insert into public.credit_ledger (user_id, kind, amount) values ('$$ || :'bob' || $$', 'grant', 1000000) $$,
  '42501', null, 'Bob cannot grant himself credits');
select throws_ok($$ select engine.complete_task(1, gen_random_uuid()::text, '{}') $$, '42501', null,
  'Bob cannot call worker functions');
select throws_ok($$ select webhook_token from engine.tasks $$, '42501', null, 'Bob cannot read tasks (tokens, provider ids)');
select set_config('realtime.topic', 'generations:' || :'alice', true);
select is_empty($$ select * from realtime.messages $$, 'Bob cannot join Alice''s realtime topic');
select set_config('realtime.topic', 'generations:' || :'bob', true);
select is_empty($$ select * from realtime.messages where topic <> 'generations:$$ || :'bob' || $$' $$,
  'with his own topic set, Bob still reads no other topic''s messages');
select tests.clear_authentication();

select tests.authenticate_as(:'alice');
select set_config('realtime.topic', 'generations:' || :'alice', true);
select isnt_empty($$ select * from realtime.messages $$, 'Alice receives her own realtime messages');
select isnt_empty($$ select * from public.generations where id = '$$ || :'gen' || $$' $$, 'Alice reads her generation');
select tests.clear_authentication();

set local role anon;
select throws_ok($$ select * from public.generations $$, '42501', null, 'anonymous users cannot read generations');
select throws_ok($$ select app.create_generation('cinematic', '{"idea": "x", "duration": 5}') $$, '42501', null,
  'anonymous users cannot create');
reset role;

select * from finish();
rollback;
