-- The database refuses illegal transitions, whoever writes. Every transition is logged,
-- broadcast to the owner, and settles credits exactly once.

create function public.guard_generation_transition() returns trigger
language plpgsql set search_path = '' as $$
declare
  legal boolean;
begin
  if new.user_id <> old.user_id or new.pipeline <> old.pipeline or new.id <> old.id then
    raise exception using errcode = 'RF409', message = 'A generation''s owner and pipeline never change';
  end if;
  if old.status in ('completed', 'canceled') then
    raise exception using errcode = 'RF409',
      message = format('Generation %s is %s and cannot change', old.id, old.status);
  end if;

  legal := case old.status
    when 'queued' then new.status in ('queued', 'running', 'failed', 'canceled')
    when 'running' then new.status in ('running', 'queued', 'waiting', 'completed', 'failed', 'canceled')
    when 'waiting' then new.status in ('waiting', 'queued', 'failed', 'canceled')
    when 'failed' then new.status = 'queued'
    else false
  end;
  if not legal then
    raise exception using errcode = 'RF409',
      message = format('Generation %s cannot go from %s to %s', old.id, old.status, new.status);
  end if;

  if new.step <> old.step then
    if not (new.status = 'queued' and old.status in ('running', 'waiting') and exists (
      select 1 from public.step_transitions t
      where t.pipeline = new.pipeline and t.from_step = old.step and t.to_step = new.step)) then
      raise exception using errcode = 'RF409',
        message = format('Step %s cannot follow step %s', new.step, old.step);
    end if;
  end if;

  if new.status = 'completed' and not exists (
    select 1 from public.pipeline_steps s
    where s.pipeline = new.pipeline and s.step = new.step and s.is_final) then
    raise exception using errcode = 'RF409',
      message = format('Generation %s cannot complete at step %s', old.id, new.step);
  end if;

  -- Dispatch bookkeeping: a row entering a due queued step is dispatched now, and reconcile
  -- looks again in 15 s in case the wake-up is lost; a retry due later waits for reconcile.
  if new.status <> 'queued' then
    new.wake_at := null;
  elsif old.status <> 'queued' or old.step <> new.step then
    if new.next_attempt_at <= now() then
      new.dispatched_at := now();
      new.dispatch_count := old.dispatch_count + 1;
      new.wake_at := now() + interval '15 seconds';
    else
      new.wake_at := new.next_attempt_at;
    end if;
  end if;
  new.updated_at := now();
  return new;
end $$;

create function public.dispatch_on_insert() returns trigger
language plpgsql set search_path = '' as $$
begin
  if new.status = 'queued' and new.next_attempt_at <= now() then
    new.dispatched_at := now();
    new.dispatch_count := 1;
    new.wake_at := now() + interval '15 seconds';
  end if;
  return new;
end $$;

create trigger generations_guard before update on public.generations
  for each row execute function public.guard_generation_transition();
create trigger generations_dispatch_on_insert before insert on public.generations
  for each row execute function public.dispatch_on_insert();

-- Log and broadcast: one event per transition (and per provider progress report).
create function public.log_generation_event() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'UPDATE' and new.status = old.status and new.step = old.step
     and new.attempt = old.attempt and new.progress = old.progress then
    return null;
  end if;
  insert into public.generation_events (generation_id, user_id, status, step, attempt, progress, message)
  values (new.id, new.user_id, new.status, new.step, new.attempt, new.progress,
          case when new.status = 'failed' then new.error_message end);
  perform realtime.send(
    jsonb_build_object('id', new.id, 'status', new.status, 'step', new.step,
      'progress', new.progress, 'error_code', new.error_code, 'error_message', new.error_message),
    'generation_update', 'generations:' || new.user_id::text, true);
  return null;
end $$;

create trigger generations_log after insert or update on public.generations
  for each row execute function public.log_generation_event();

-- Credits settle on the transition itself, so every path (worker, cancel, reconcile)
-- captures or releases exactly once per billing round.
create function public.settle_credits() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  inserted integer;
begin
  if new.status = 'completed' then
    insert into public.credit_ledger (user_id, generation_id, billing_round, kind, amount)
    values (new.user_id, new.id, new.billing_round, 'capture', new.credits_reserved)
    on conflict do nothing;
  elsif new.status in ('failed', 'canceled') and old.status not in ('failed', 'canceled') then
    insert into public.credit_ledger (user_id, generation_id, billing_round, kind, amount)
    select new.user_id, new.id, new.billing_round, 'release', new.credits_reserved
    where not exists (select 1 from public.credit_ledger l where l.generation_id = new.id
                        and l.billing_round = new.billing_round and l.kind = 'capture')
    on conflict do nothing;
    get diagnostics inserted = row_count;
    if inserted = 1 then
      update public.credit_accounts set balance = balance + new.credits_reserved, updated_at = now()
      where user_id = new.user_id;
    end if;
  end if;
  return null;
end $$;

create trigger generations_settle_credits after update of status on public.generations
  for each row when (new.status in ('completed', 'failed', 'canceled'))
  execute function public.settle_credits();

create function public.keep_capture_charged() returns trigger
language plpgsql set search_path = '' as $$
begin
  if new.status = 'completed' then
    new.credits_charged := new.credits_reserved;
    new.completed_at := now();
  end if;
  return new;
end $$;

create trigger generations_charge before update of status on public.generations
  for each row when (new.status = 'completed') execute function public.keep_capture_charged();
