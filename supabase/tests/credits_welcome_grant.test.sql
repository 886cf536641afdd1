-- New users get the welcome grant of engine.settings (one ledger row saying so) once their
-- address is confirmed, once per mailbox; 0 turns it off.
begin;
select plan(9);

create function pg_temp.balance(p_email text) returns bigint language sql as $$
  select balance from public.credit_accounts a join auth.users u on u.id = a.user_id where u.email = p_email $$;

update engine.settings set welcome_credits = 500;
insert into auth.users (email) values ('welcome@test.local');
select is(pg_temp.balance('welcome@test.local'), 500::bigint, 'a user created confirmed starts with the welcome grant');
select results_eq(
  $$select kind::text, amount, reason from public.credit_ledger l join auth.users u on u.id = l.user_id
    where u.email = 'welcome@test.local'$$,
  $$values ('grant', 500::bigint, 'welcome')$$,
  'the ledger says why');

-- Sign-up with confirmations on: nothing until the address is confirmed.
insert into auth.users (email, email_confirmed_at) values ('Later+one@Test.local', null);
select is(pg_temp.balance('Later+one@Test.local'), 0::bigint, 'an unconfirmed address gets nothing');
update auth.users set email_confirmed_at = now() where email = 'Later+one@Test.local';
select is(pg_temp.balance('Later+one@Test.local'), 500::bigint, 'confirming it gives the grant');
update auth.users set email_confirmed_at = now() + interval '1 second' where email = 'Later+one@Test.local';
select is(pg_temp.balance('Later+one@Test.local'), 500::bigint, 'once');

-- The same mailbox again: an alias, or the address signed up again after deleting its user.
insert into auth.users (email, email_confirmed_at) values ('later+two@test.local', null);
update auth.users set email_confirmed_at = now() where email = 'later+two@test.local';
select is(pg_temp.balance('later+two@test.local'), 0::bigint, 'a +alias of a mailbox that had the grant gets nothing');
delete from auth.users where email = 'welcome@test.local';
insert into auth.users (email) values ('welcome@test.local');
select is(pg_temp.balance('welcome@test.local'), 0::bigint, 'nor does the same address signed up again');

update engine.settings set welcome_credits = 0;
insert into auth.users (email) values ('no-welcome@test.local');
select is((select count(*) from public.credit_ledger l join auth.users u on u.id = l.user_id where u.email = 'no-welcome@test.local'),
          0::bigint, 'with 0 there is no grant and no ledger row');
select throws_ok($$update engine.settings set welcome_credits = -1$$, '23514', null, 'a negative grant is refused');

select * from finish();
rollback;
