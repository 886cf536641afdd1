-- What a signed-in user may do, as SQL: create (price, reserve, insert), cancel, retry.
-- Called with the user's JWT claims set, like PostgREST does; auth.uid() is the caller.

create function public.require_user() returns uuid
language plpgsql stable set search_path = '' as $$
declare
  uid uuid := auth.uid();
begin
  if uid is null then
    raise exception using errcode = 'RF401', message = 'Sign in to do this';
  end if;
  return uid;
end $$;

create function public.reserve_credits(p_user_id uuid, p_generation_id uuid, p_round integer,
  p_credits integer) returns void
language plpgsql security definer set search_path = '' as $$
declare
  available bigint;
begin
  -- The conditional update takes the account row lock: concurrent reserves serialize here.
  update public.credit_accounts set balance = balance - p_credits, updated_at = now()
  where user_id = p_user_id and balance >= p_credits;
  if not found then
    select balance into available from public.credit_accounts where user_id = p_user_id;
    raise exception using errcode = 'RF402',
      message = format('This generation costs %s MC and your balance is %s MC',
                       p_credits, coalesce(available, 0));
  end if;
  insert into public.credit_ledger (user_id, generation_id, billing_round, kind, amount)
  values (p_user_id, p_generation_id, p_round, 'reserve', p_credits);
end $$;

create function public.create_generation(p_pipeline public.pipeline_kind, p_inputs jsonb,
  p_idempotency_key text default null, p_visibility text default 'private')
returns public.generations
language plpgsql security definer set search_path = '' as $$
declare
  uid uuid := public.require_user();
  quote record := public.price_quote(p_pipeline, p_inputs);
  first_step text;
  created public.generations;
begin
  if p_idempotency_key is not null then
    select * into created from public.generations
    where user_id = uid and idempotency_key = p_idempotency_key;
    if found then
      return created;
    end if;
  end if;
  if p_visibility not in ('public', 'private') then
    raise exception using errcode = 'RF400', message = 'visibility_level must be public or private';
  end if;
  select step into first_step from public.pipeline_steps
  where pipeline = p_pipeline order by progress limit 1;

  insert into public.generations (user_id, pipeline, step, inputs, credits_reserved,
                                  idempotency_key, visibility)
  values (uid, p_pipeline, first_step, p_inputs, quote.credits, p_idempotency_key, p_visibility)
  returning * into created;
  perform public.reserve_credits(uid, created.id, 1, quote.credits);
  return created;
end $$;

create function public.owned_generation(p_generation_id uuid) returns public.generations
language plpgsql security definer set search_path = '' as $$
declare
  uid uuid := public.require_user();
  found_row public.generations;
begin
  select * into found_row from public.generations where id = p_generation_id for update;
  -- Someone else's generation looks exactly like a missing one.
  if not found or found_row.user_id <> uid then
    raise exception using errcode = 'RF404', message = 'Generation not found';
  end if;
  return found_row;
end $$;

create function public.cancel_generation(p_generation_id uuid) returns public.generations
language plpgsql security definer set search_path = '' as $$
declare
  target public.generations := public.owned_generation(p_generation_id);
begin
  if target.status in ('completed', 'failed', 'canceled') then
    raise exception using errcode = 'RF400',
      message = format('Generation is already %s and cannot be canceled', target.status);
  end if;
  update public.generations
  set status = 'canceled', lease_token = null, lease_until = null,
      error_message = 'Canceled by the user'
  where id = p_generation_id
  returning * into target;
  return target;
end $$;

create function public.retry_generation(p_generation_id uuid) returns public.generations
language plpgsql security definer set search_path = '' as $$
declare
  target public.generations := public.owned_generation(p_generation_id);
begin
  if target.status <> 'failed' then
    raise exception using errcode = 'RF400',
      message = format('Only a failed generation can be retried; this one is %s', target.status);
  end if;
  perform public.reserve_credits(target.user_id, target.id, target.billing_round + 1,
                                 target.credits_reserved);
  update public.generations
  set status = 'queued', attempt = 0, next_attempt_at = now(), billing_round = billing_round + 1,
      provider_task_id = null, next_poll_at = null, poll_count = 0, error_code = null,
      error_message = null, credits_charged = 0, deadline = now() + interval '30 minutes'
  where id = p_generation_id
  returning * into target;
  return target;
end $$;
