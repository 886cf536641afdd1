-- New users start with the welcome grant of engine.settings (one ledger row saying so);
-- 0 turns it off.
begin;
select plan(5);

update engine.settings set welcome_credits = 500;
insert into auth.users (email) values ('welcome@test.local');
select is((select balance from public.credit_accounts a join auth.users u on u.id = a.user_id where u.email = 'welcome@test.local'),
          500::bigint, 'a new user starts with the welcome grant');
select results_eq(
  $$select kind::text, amount, reason from public.credit_ledger l join auth.users u on u.id = l.user_id
    where u.email = 'welcome@test.local'$$,
  $$values ('grant', 500::bigint, 'welcome')$$,
  'the ledger says why');

update engine.settings set welcome_credits = 0;
insert into auth.users (email) values ('no-welcome@test.local');
select is((select balance from public.credit_accounts a join auth.users u on u.id = a.user_id where u.email = 'no-welcome@test.local'),
          0::bigint, 'with 0 there is no grant');
select is((select count(*) from public.credit_ledger l join auth.users u on u.id = l.user_id where u.email = 'no-welcome@test.local'),
          0::bigint, 'and no ledger row');
select throws_ok($$update engine.settings set welcome_credits = -1$$, '23514', null, 'a negative grant is refused');

select * from finish();
rollback;
