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
      message = format('A %s costs %s MC and your balance is %s MC', item.label, item.credits, available);
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
