-- Money that a signed-in attacker could take for free (issue 26.6, 26.7) and API keys for
-- servers (issue 25.8).

-- 1. Synchronous provider calls are paid like tasks. A call made while the user waits (a spec
-- drafted by Gemini, an image edited by Gemini) is priced in price_list, reserved before the
-- call, captured when it succeeded and refunded when it failed: one ledger row each, once,
-- keyed by the call. A call whose price would make no sense (the prompt optimizer, priced 0)
-- needs a positive balance and counts against a daily quota per user.
insert into public.price_list (pipeline, sku, credits, label) values
  ('movie', 'spec_draft', 5, 'spec draft'),
  ('movie', 'image_edit', 20, 'image edit'),
  ('model_direct', 'prompt_optimization', 0, 'prompt optimization');

alter table engine.settings add column free_calls_per_day integer not null default 50 check (free_calls_per_day >= 0);

create table engine.paid_calls (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  sku text not null,
  credits integer not null check (credits >= 0),
  status text not null default 'reserved' check (status in ('reserved', 'captured', 'refunded')),
  created_at timestamptz not null default now(),
  settled_at timestamptz
);
create index paid_calls_user_idx on engine.paid_calls (user_id, sku, created_at);

-- A call's ledger rows name it; its reserve, capture and refund are each written once.
alter table public.credit_ledger add column call_id uuid references engine.paid_calls (id) on delete cascade;
create unique index credit_ledger_call_settles_once_idx on public.credit_ledger (call_id, kind) where call_id is not null;
comment on column public.credit_ledger.call_id is
  'The synchronous provider call (engine.paid_calls) this row pays for: reserve before it, capture after it succeeded, refund of the reserve after it failed';

-- Settles a reserved call once: capture when it succeeded, else refund (the reserve given back).
create function engine.settle_paid_call(p_call_id uuid, p_succeeded boolean) returns void
language plpgsql security definer set search_path = '' as $$
declare
  c engine.paid_calls;
begin
  update engine.paid_calls set status = case when p_succeeded then 'captured' else 'refunded' end, settled_at = now()
  where id = p_call_id and status = 'reserved'
  returning * into c;
  if not found or c.credits = 0 then
    return;
  end if;
  insert into public.credit_ledger (user_id, call_id, step, kind, amount, reason)
  select c.user_id, c.id, c.sku, case when p_succeeded then 'capture' else 'refund' end::public.ledger_kind, c.credits, p.label
  from public.price_list p where p.sku = c.sku
  limit 1;
  if not p_succeeded then
    perform engine.credit_back(c.user_id, c.credits);
  end if;
end $$;

-- Starts a call the caller pays for and returns its id; 402 when the balance is short (or,
-- for a free call, not positive), 429 past the daily quota of free calls.
create function app.start_paid_call(p_pipeline public.pipeline_kind, p_sku text) returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  uid uuid := app.require_user();
  item public.price_list;
  available bigint;
  used integer;
  oldest timestamptz;
  quota integer := (engine.settings()).free_calls_per_day;
  call_id uuid;
  stale uuid;
begin
  select * into item from public.price_list where pipeline = p_pipeline and sku = p_sku;
  if not found then
    raise exception using errcode = 'RF400', message = format('No price exists for %s', p_sku);
  end if;
  -- A call whose process died before it settled holds nothing for long: refunded after 10 minutes.
  for stale in select id from engine.paid_calls
               where user_id = uid and status = 'reserved' and created_at < now() - interval '10 minutes' loop
    perform engine.settle_paid_call(stale, false);
  end loop;
  -- The account row lock serializes this user's calls: the balance and the quota hold under concurrency.
  select balance into available from public.credit_accounts where user_id = uid for update;
  available := coalesce(available, 0);
  if item.credits > 0 and available < item.credits then
    raise exception using errcode = 'RF402',
      message = format('The %s costs %s MC and your balance is %s MC', item.label, item.credits, available);
  end if;
  if item.credits = 0 then
    if available <= 0 then
      raise exception using errcode = 'RF402', message = format('The %s needs a positive credit balance', item.label);
    end if;
    select count(*), min(created_at) into used, oldest from engine.paid_calls
    where user_id = uid and sku = p_sku and created_at > now() - interval '1 day';
    if used >= quota then
      raise exception using errcode = 'RF429',
        message = format('At most %s %ss a day; try again later', quota, item.label),
        hint = greatest(1, ceil(extract(epoch from oldest + interval '1 day' - now())))::text;
    end if;
  end if;
  insert into engine.paid_calls (user_id, sku, credits) values (uid, p_sku, item.credits) returning id into call_id;
  if item.credits > 0 then
    update public.credit_accounts set balance = balance - item.credits, updated_at = now() where user_id = uid;
    insert into public.credit_ledger (user_id, call_id, step, kind, amount, reason)
    values (uid, call_id, p_sku, 'reserve', item.credits, item.label);
  end if;
  return call_id;
end $$;

create function app.settle_paid_call(p_call_id uuid, p_succeeded boolean) returns void
language sql security definer set search_path = '' as $$
  select engine.settle_paid_call(c.id, p_succeeded) from engine.paid_calls c
  where c.id = p_call_id and c.user_id = app.require_user()
$$;

grant execute on function app.start_paid_call(public.pipeline_kind, text), app.settle_paid_call(uuid, boolean) to authenticated;

-- 2. API keys for servers. A key acts as its owner (their rate limit and credits); only its
-- SHA-256 is kept (a key is 256 random bits: a slow hash adds nothing), with the first
-- characters shown to tell keys apart. Users manage their keys through the api-keys function;
-- the table is out of the Data API's reach.
create table engine.api_keys (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  name text not null check (length(name) between 1 and 100),
  prefix text not null,
  secret_hash text not null unique,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index api_keys_user_idx on engine.api_keys (user_id, created_at);
alter table engine.settings add column max_api_keys_per_user integer not null default 20 check (max_api_keys_per_user >= 0);

create function app.create_api_key(p_name text, p_prefix text, p_secret_hash text)
returns table (id uuid, name text, prefix text, created_at timestamptz, last_used_at timestamptz)
language plpgsql security definer set search_path = '' as $$
declare
  uid uuid := app.require_user();
  cap integer := (engine.settings()).max_api_keys_per_user;
begin
  -- The account row lock makes the cap hold under concurrent creates.
  perform from public.credit_accounts a where a.user_id = uid for update;
  if (select count(*) from engine.api_keys k where k.user_id = uid and k.revoked_at is null) >= cap then
    raise exception using errcode = 'RF400', message = format('At most %s API keys: revoke one first', cap);
  end if;
  return query
  insert into engine.api_keys (user_id, name, prefix, secret_hash) values (uid, p_name, p_prefix, p_secret_hash)
  returning api_keys.id, api_keys.name, api_keys.prefix, api_keys.created_at, api_keys.last_used_at;
end $$;

create function app.list_api_keys()
returns table (id uuid, name text, prefix text, created_at timestamptz, last_used_at timestamptz)
language sql stable security definer set search_path = '' as $$
  select k.id, k.name, k.prefix, k.created_at, k.last_used_at from engine.api_keys k
  where k.user_id = app.require_user() and k.revoked_at is null
  order by k.created_at desc, k.id
$$;

create function app.revoke_api_key(p_id uuid) returns void
language plpgsql security definer set search_path = '' as $$
begin
  update engine.api_keys set revoked_at = now() where id = p_id and user_id = app.require_user() and revoked_at is null;
  if not found then
    raise exception using errcode = 'RF404', message = 'API key not found';
  end if;
end $$;

grant execute on function app.create_api_key(text, text, text), app.list_api_keys(), app.revoke_api_key(uuid) to authenticated;

-- The owner of a key (by its hash), for the functions' auth: null when unknown; `revoked`
-- says why it no longer works. Its last use is kept to the minute (one write a minute at most).
create function engine.api_key_owner(p_secret_hash text, out key_id uuid, out user_id uuid, out revoked boolean)
language plpgsql security definer set search_path = '' as $$
begin
  select k.id, k.user_id, k.revoked_at is not null into key_id, user_id, revoked
  from engine.api_keys k where k.secret_hash = p_secret_hash;
  if found and not revoked then
    update engine.api_keys set last_used_at = now()
    where id = key_id and (last_used_at is null or last_used_at < now() - interval '1 minute');
  end if;
end $$;

-- 3. The welcome grant is given when an address is confirmed (Auth sets email_confirmed_at),
-- not at sign-up, and once per mailbox: an address counts with its +tag dropped and in lower
-- case, and is remembered after its user is deleted, so neither aliases nor signing up again
-- farm it.
create table engine.welcome_grants (
  mailbox text primary key,
  user_id uuid,
  granted_at timestamptz not null default now()
);

create function engine.mailbox(p_email text) returns text
language sql immutable set search_path = '' as $$
  select lower(regexp_replace(split_part(p_email, '@', 1), '\+.*$', '')) || '@' || lower(split_part(p_email, '@', 2))
$$;

create function engine.grant_welcome(p_user_id uuid, p_email text) returns void
language plpgsql security definer set search_path = '' as $$
declare
  welcome integer := (engine.settings()).welcome_credits;
begin
  if welcome <= 0 or p_email is null then
    return;
  end if;
  insert into engine.welcome_grants (mailbox, user_id) values (engine.mailbox(p_email), p_user_id) on conflict do nothing;
  if found then
    update public.credit_accounts set balance = balance + welcome, updated_at = now() where user_id = p_user_id;
    insert into public.credit_ledger (user_id, kind, amount, reason) values (p_user_id, 'grant', welcome, 'welcome');
  end if;
end $$;

create or replace function public.open_credit_account() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.credit_accounts (user_id, balance) values (new.id, 0) on conflict do nothing;
  if new.email_confirmed_at is not null then
    perform engine.grant_welcome(new.id, new.email);
  end if;
  return null;
end $$;

create function engine.grant_welcome_on_confirmation() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform engine.grant_welcome(new.id, new.email);
  return null;
end $$;

create trigger grant_welcome_on_confirmation after update of email_confirmed_at on auth.users
  for each row when (old.email_confirmed_at is null and new.email_confirmed_at is not null)
  execute function engine.grant_welcome_on_confirmation();
