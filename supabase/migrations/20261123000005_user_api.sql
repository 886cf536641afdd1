-- What a signed-in user may do, as SQL: create (price, reserve, admit), cancel, retry.
-- Called by the functions with the user's JWT claims set, like PostgREST does; auth.uid() is
-- the caller. These live in the `app` schema, which the Data API does not expose: the
-- functions validate every input (paths, URLs, models) before they get here.
-- Lock order everywhere: capacity rows, then tasks, then the run, then the credit account.

create schema app;
revoke all on schema app from public;
grant usage on schema app to authenticated, service_role;

create function app.require_user() returns uuid
language plpgsql stable set search_path = '' as $$
declare
  uid uuid := auth.uid();
begin
  if uid is null then
    raise exception using errcode = 'RF401', message = 'Sign in to do this';
  end if;
  return uid;
end $$;

create function engine.reserve_credits(p_user_id uuid, p_generation_id uuid, p_round integer,
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

-- Metering: a task's capture goes back when it fails; a round that ends releases what it
-- reserved and never captured. Both give credits back to the account.
create function engine.credit_back(p_user_id uuid, p_credits bigint) returns void
language sql security definer set search_path = '' as $$
  update public.credit_accounts set balance = balance + p_credits, updated_at = now() where user_id = p_user_id
$$;

create function engine.refund_task(p_task engine.tasks) returns void
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.credit_ledger (user_id, generation_id, billing_round, step, task_index, kind, amount)
  values (p_task.user_id, p_task.generation_id, p_task.charged_round, p_task.step, p_task.task_index,
          'refund', p_task.price)
  on conflict do nothing;
  if found then
    update public.generations
    set credits_charged = credits_charged - p_task.price, credits_refunded = credits_refunded + p_task.price
    where id = p_task.generation_id;
    perform engine.credit_back(p_task.user_id, p_task.price);
  end if;
end $$;

create function engine.release_round(p_generation_id uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
  run public.generations;
  unused bigint;
begin
  select * into run from public.generations where id = p_generation_id;
  select run.credits_reserved - coalesce(sum(l.amount), 0) into unused
  from public.credit_ledger l
  where l.generation_id = p_generation_id and l.billing_round = run.billing_round and l.kind = 'capture';
  if unused <= 0 then
    return;
  end if;
  insert into public.credit_ledger (user_id, generation_id, billing_round, kind, amount)
  values (run.user_id, run.id, run.billing_round, 'release', unused)
  on conflict do nothing;
  if found then
    perform engine.credit_back(run.user_id, unused);
  end if;
end $$;

-- Admission: a run starts when its owner has fewer than max_active_generations_per_user
-- running; the others wait, queued, oldest first.
create function engine.start_run(p_generation_id uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
  run public.generations;
begin
  update public.generations g
  set status = 'running', started_at = coalesce(g.started_at, now()),
      deadline = now() + (engine.settings()).generation_timeout,
      remaining_steps = case when g.started_at is null
        then (select count(*) from engine.flow_steps f where f.pipeline = g.pipeline) else g.remaining_steps end
  where g.id = p_generation_id
  returning * into run;
  insert into engine.step_states (generation_id, step, remaining_deps)
  select run.id, f.step, (select count(*) from engine.flow_deps d
                          where d.pipeline = f.pipeline and d.step = f.step and engine.dep_applies(d, run.inputs))
  from engine.flow_steps f where f.pipeline = run.pipeline
  on conflict do nothing;
  -- A retried run resumes: its queued tasks are woken now.
  update engine.tasks set dispatch_count = dispatch_count + 1,
                          wake_at = now() + (engine.settings()).redispatch_after
  where generation_id = run.id and status = 'queued' and next_attempt_at <= now();
  perform engine.start_ready_steps(run.id);
  if run.remaining_steps = 0 then
    perform engine.complete_run(run.id);
  end if;
end $$;

create function engine.admit(p_user_id uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
  next_id uuid;
begin
  perform 1 from public.credit_accounts where user_id = p_user_id for update;
  loop
    exit when (select count(*) from public.generations where user_id = p_user_id and status = 'running')
              >= (engine.settings()).max_active_generations_per_user;
    -- A run of a sequential batch waits while another run of its batch is running.
    select g.id into next_id from public.generations g
    where g.user_id = p_user_id and g.status = 'queued'
      and not exists (select 1 from public.generation_batches b
                      join public.generations r on r.batch_id = b.id and r.status = 'running'
                      where b.id = g.batch_id and not b.parallel)
    order by g.created_at, g.id limit 1
    for update of g skip locked;
    exit when next_id is null;
    perform engine.start_run(next_id);
  end loop;
end $$;

-- Idempotency as Stripe does it: a repeat of a key (concurrent or later) returns the same
-- generation, charged once; the same key with another request is refused.
create function app.create_generation(p_pipeline public.pipeline_kind, p_inputs jsonb,
  p_idempotency_key text default null, p_visibility text default 'private', p_batch_id uuid default null)
returns public.generations
language plpgsql security definer set search_path = '' as $$
declare
  uid uuid := app.require_user();
  quote record := public.price_quote(p_pipeline, p_inputs);
  fingerprint text := md5(jsonb_build_array(p_pipeline, p_inputs, p_visibility)::text);
  created public.generations;
begin
  if p_visibility not in ('public', 'private') then
    raise exception using errcode = 'RF400', message = 'visibility_level must be public or private';
  end if;
  if p_batch_id is not null and not exists (select 1 from public.generation_batches where id = p_batch_id and user_id = uid) then
    raise exception using errcode = 'RF404', message = 'Batch not found';
  end if;
  -- A concurrent insert of the same key waits here for the other to commit, then does nothing.
  insert into public.generations (user_id, pipeline, inputs, price_plan, credits_reserved,
                                  idempotency_key, request_fingerprint, visibility, batch_id)
  values (uid, p_pipeline, p_inputs, quote.plan, quote.credits, p_idempotency_key, fingerprint, p_visibility, p_batch_id)
  on conflict (user_id, idempotency_key) do nothing
  returning * into created;
  if not found then
    select * into created from public.generations where user_id = uid and idempotency_key = p_idempotency_key;
    if created.request_fingerprint <> fingerprint then
      raise exception using errcode = 'RF422',
        message = 'This Idempotency-Key was used for a different request';
    end if;
    return created;
  end if;
  perform engine.reserve_credits(uid, created.id, 1, quote.credits);
  perform engine.admit(uid);
  select * into created from public.generations where id = created.id;
  return created;
end $$;

create function app.owned_generation(p_generation_id uuid) returns public.generations
language plpgsql stable security definer set search_path = '' as $$
declare
  uid uuid := app.require_user();
  found_row public.generations;
begin
  select * into found_row from public.generations where id = p_generation_id;
  -- Someone else's generation looks exactly like a missing one.
  if not found or found_row.user_id <> uid then
    raise exception using errcode = 'RF404', message = 'Generation not found';
  end if;
  return found_row;
end $$;

-- Cancel stops every unfinished task (work already started stays charged) and ends the run.
create function app.cancel_generation(p_generation_id uuid) returns public.generations
language plpgsql security definer set search_path = '' as $$
declare
  target public.generations := app.owned_generation(p_generation_id);
begin
  if target.status in ('completed', 'failed', 'canceled') then
    raise exception using errcode = 'RF400',
      message = format('Generation is already %s and cannot be canceled', target.status);
  end if;
  update engine.tasks
  set status = 'canceled', lease_token = null, lease_until = null, next_poll_at = null,
      error_message = 'Canceled by the user'
  where generation_id = p_generation_id and status in ('queued', 'running', 'waiting');
  update public.generations
  set status = 'canceled', error_message = 'Canceled by the user'
  where id = p_generation_id and status in ('queued', 'running')
  returning * into target;
  if not found then
    raise exception using errcode = 'RF400', message = 'Generation ended before it could be canceled';
  end if;
  return target;
end $$;

-- What a run's plan prices and its tasks have not captured: a new round reserves this.
create function engine.unpaid_credits(p_generation_id uuid) returns integer
language sql stable security definer set search_path = '' as $$
  select ((select coalesce(sum(v::integer), 0) from jsonb_each_text(g.price_plan) as p (k, v))
          - (select coalesce(sum(t.price), 0) from engine.tasks t
             where t.generation_id = g.id and t.charged_round is not null))::integer
  from public.generations g where g.id = p_generation_id
$$;

-- Retry re-runs only what failed (and what never ran); finished tasks keep their outputs.
-- The new round reserves only the unpaid rest of the plan.
create function app.retry_generation(p_generation_id uuid) returns public.generations
language plpgsql security definer set search_path = '' as $$
declare
  target public.generations := app.owned_generation(p_generation_id);
  unpaid integer;
begin
  if target.status <> 'failed' then
    raise exception using errcode = 'RF400',
      message = format('Only a failed generation can be retried; this one is %s', target.status);
  end if;
  update engine.tasks
  set status = 'queued', attempt = 0, next_attempt_at = now(), error_code = null, error_message = null,
      provider = null, provider_task_id = null, next_poll_at = null, poll_count = 0,
      provider_progress = 0, checked_at = null
  where generation_id = p_generation_id and status = 'failed';
  unpaid := engine.unpaid_credits(p_generation_id);
  update public.generations
  set status = 'queued', billing_round = billing_round + 1, credits_reserved = unpaid,
      error_code = null, error_message = null
  where id = p_generation_id and status = 'failed'
  returning * into target;
  if not found then
    raise exception using errcode = 'RF400', message = 'Generation changed before it could be retried';
  end if;
  perform engine.reserve_credits(target.user_id, target.id, target.billing_round, unpaid);
  perform engine.admit(target.user_id);
  select * into target from public.generations where id = p_generation_id;
  return target;
end $$;

-- The per-user API rate limit (a token bucket): false, with when to retry, once the burst is
-- spent faster than the bucket refills.
create function engine.take_api_request(p_user_id uuid, out allowed boolean, out retry_after_seconds integer,
  out reset_at timestamptz)
language plpgsql security definer set search_path = '' as $$
declare
  cfg engine.settings := engine.settings();
  per_second numeric := cfg.api_requests_per_minute / 60.0;
  left_tokens numeric;
begin
  insert into engine.request_buckets as b (user_id, tokens, refilled_at)
  values (p_user_id, cfg.api_burst - 1, clock_timestamp())
  on conflict (user_id) do update
  set tokens = least(cfg.api_burst, b.tokens + extract(epoch from clock_timestamp() - b.refilled_at) * per_second) - 1,
      refilled_at = clock_timestamp()
  where least(cfg.api_burst, b.tokens + extract(epoch from clock_timestamp() - b.refilled_at) * per_second) >= 1
  returning tokens into left_tokens;
  allowed := found;
  if not allowed then
    select b.tokens + extract(epoch from clock_timestamp() - b.refilled_at) * per_second into left_tokens
    from engine.request_buckets b where b.user_id = p_user_id;
  end if;
  retry_after_seconds := case when allowed then 0 else ceil((1 - left_tokens) / per_second)::integer end;
  reset_at := clock_timestamp() + make_interval(secs => (cfg.api_burst - greatest(left_tokens, 0)) / per_second);
end $$;

-- A run's tasks as its owner may see them: no tokens, no provider ids. A queued task that
-- waits for a provider slot names the provider endpoint (waiting_for).
create function app.generation_tasks(p_generation_id uuid)
returns table (step text, task_index integer, status public.task_status, attempt integer,
               waiting_for text, progress smallint, error_code text)
language sql stable security definer set search_path = '' as $$
  select t.step, t.task_index, t.status, t.attempt, t.blocked_on,
         engine.task_progress(t.status, t.provider_progress), t.error_code
  from engine.tasks t
  where t.generation_id = (app.owned_generation(p_generation_id)).id
  order by t.id
$$;
