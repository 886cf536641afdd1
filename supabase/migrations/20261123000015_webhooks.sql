-- Signed outbound webhooks (Standard Webhooks): users register endpoints with event filters;
-- each event becomes one delivery per matching endpoint, posted by the webhook-deliver
-- function with a lease (as engine tasks are), retried with backoff for 24 h, every attempt
-- logged. Internal tables: users reach them only through the app functions below.

alter table engine.settings add column webhook_retry_scale numeric not null default 1;  -- local testing only: scales the backoff

create table engine.webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  url text not null check (url ~ '^https?://'),
  events text[] not null check (cardinality(events) > 0),
  description text not null default '',
  secret text not null,                     -- whsec_<base64>; shown once, at create and rotate
  created_at timestamptz not null default now(),
  rotated_at timestamptz
);
create index webhook_endpoints_user_idx on engine.webhook_endpoints (user_id);

create table engine.webhook_deliveries (
  id bigint generated always as identity primary key,
  endpoint_id uuid not null references engine.webhook_endpoints (id) on delete cascade,
  user_id uuid not null,
  message_id text not null,                 -- webhook-id: the same on every attempt and replay
  event text not null,
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'delivering', 'succeeded', 'failed')),
  attempt integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  lease_until timestamptz,
  created_at timestamptz not null default now(),
  completed_at timestamptz
);
create index webhook_deliveries_due_idx on engine.webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_lease_idx on engine.webhook_deliveries (lease_until) where status = 'delivering';
create index webhook_deliveries_endpoint_idx on engine.webhook_deliveries (endpoint_id, id desc);

create table engine.webhook_attempts (
  id bigint generated always as identity primary key,
  delivery_id bigint not null references engine.webhook_deliveries (id) on delete cascade,
  attempt integer not null,
  response_status integer,                  -- null: no answer (refused, timed out)
  error text,
  duration_ms integer not null,
  created_at timestamptz not null default now()
);
create index webhook_attempts_delivery_idx on engine.webhook_attempts (delivery_id, attempt);

alter table engine.webhook_endpoints enable row level security;
alter table engine.webhook_deliveries enable row level security;
alter table engine.webhook_attempts enable row level security;

-- The waits after each failed attempt (the Standard Webhooks schedule), then one last
-- attempt 24 h after the event; after it, the delivery has failed.
create function engine.webhook_backoff(p_attempt integer) returns interval
language sql immutable set search_path = '' as $$
  select (array['5 seconds', '5 minutes', '30 minutes', '2 hours', '5 hours', '10 hours']::interval[])[p_attempt]
$$;

-- One delivery per endpoint of the user that listens to the event; wakes the deliverer.
create function engine.enqueue_webhooks(p_user_id uuid, p_event text, p_data jsonb) returns void
language plpgsql security definer set search_path = '' as $$
begin
  insert into engine.webhook_deliveries (endpoint_id, user_id, message_id, event, payload)
  select e.id, e.user_id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), p_event,
         jsonb_build_object('type', p_event, 'timestamp', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'data', p_data)
  from engine.webhook_endpoints e
  where e.user_id = p_user_id and (p_event = any(e.events) or '*' = any(e.events));
  if found then
    perform engine.wake('webhook-deliver');
  end if;
end $$;

create function engine.webhook_generation_ended() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform engine.enqueue_webhooks(new.user_id, 'generation.' || new.status::text, jsonb_build_object(
    'id', new.id, 'pipeline', new.pipeline, 'status', new.status,
    'error', case when new.error_code is null then null else jsonb_build_object('code', new.error_code, 'message', new.error_message) end));
  return null;
end $$;

create trigger generations_webhooks after update of status on public.generations
  for each row when (new.status in ('completed', 'failed', 'canceled') and old.status is distinct from new.status)
  execute function engine.webhook_generation_ended();

-- A movie's segment is completed once it is normalised.
create function engine.webhook_segment_completed() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform engine.enqueue_webhooks(new.user_id, 'segment.completed', jsonb_build_object(
    'generation_id', new.generation_id, 'index', new.task_index,
    'segment_id', (select g.inputs -> 'scenes' -> new.task_index ->> 'id' from public.generations g where g.id = new.generation_id)));
  return null;
end $$;

create trigger tasks_segment_webhooks after update of status on engine.tasks
  for each row when (new.step = 'normalize' and new.status = 'completed' and old.status <> 'completed')
  execute function engine.webhook_segment_completed();

-- The deliverer's side: claim due deliveries with a lease, then report each attempt.
create function engine.claim_webhook_deliveries(p_limit integer default 20)
returns table (delivery_id bigint, attempt integer, message_id text, payload jsonb, url text, secret text)
language sql security definer set search_path = '' as $$
  with due as (
    select d.id from engine.webhook_deliveries d
    where d.status = 'pending' and d.next_attempt_at <= now()
    order by d.next_attempt_at limit p_limit
    for update skip locked
  )
  update engine.webhook_deliveries d
  set status = 'delivering', attempt = d.attempt + 1, lease_until = now() + interval '60 seconds'
  from due, engine.webhook_endpoints e
  where d.id = due.id and e.id = d.endpoint_id
  returning d.id, d.attempt, d.message_id, d.payload, e.url, e.secret
$$;

create function engine.finish_webhook_attempt(p_delivery_id bigint, p_attempt integer, p_ok boolean,
  p_response_status integer, p_error text, p_duration_ms integer) returns text
language plpgsql security definer set search_path = '' as $$
declare
  d engine.webhook_deliveries;
  -- The immediate attempt, one after each wait of the schedule, and the last at 24 h.
  last_attempt constant integer := 8;
  outcome text;
begin
  select * into d from engine.webhook_deliveries where id = p_delivery_id and attempt = p_attempt and status = 'delivering'
  for update;
  if not found then
    return null;  -- a late report of an attempt whose lease expired: the next one counts
  end if;
  insert into engine.webhook_attempts (delivery_id, attempt, response_status, error, duration_ms)
  values (p_delivery_id, p_attempt, p_response_status, left(p_error, 500), p_duration_ms);
  outcome := case when p_ok then 'succeeded' when p_attempt >= last_attempt then 'failed' else 'pending' end;
  update engine.webhook_deliveries
  set status = outcome,
      next_attempt_at = now() + greatest(interval '0', coalesce(engine.webhook_backoff(p_attempt), d.created_at + interval '24 hours' - now())
                                                        * (engine.settings()).webhook_retry_scale),
      lease_until = null,
      completed_at = case when outcome <> 'pending' then now() end
  where id = p_delivery_id;
  return outcome;
end $$;

-- Due retries and expired leases (a deliverer that died): pending again, and a wake-up.
create function engine.dispatch_webhooks() returns integer
language plpgsql security definer set search_path = '' as $$
declare
  due integer;
begin
  update engine.webhook_deliveries set status = 'pending', lease_until = null
  where id in (select id from engine.webhook_deliveries where status = 'delivering' and lease_until < now()
               for update skip locked);
  select count(*) into due from engine.webhook_deliveries where status = 'pending' and next_attempt_at <= now();
  if due > 0 then
    perform engine.wake('webhook-deliver');
  end if;
  return due;
end $$;

-- Every 5 s with pg_cron >= 1.5; the local stack's older pg_cron ticks it with the rest.
do $$
declare
  version text := (select extversion from pg_extension where extname = 'pg_cron');
begin
  if version is null then
    raise notice 'pg_cron is not enabled: schedule engine.dispatch_webhooks() every 5 s yourself';
  elsif string_to_array(split_part(version, '-', 1), '.')::int[] >= array[1, 5] then
    perform cron.schedule('reelforge-webhooks', '5 seconds', 'select engine.dispatch_webhooks()');
  else
    create or replace procedure engine.tick_every_2_seconds_for_a_minute()
    language plpgsql as $p$
    begin
      for i in 0..29 loop
        if i % 5 = 0 then
          perform engine.reconcile();
        else
          perform engine.dispatch_polls();
        end if;
        perform engine.dispatch_webhooks();
        commit;
        if i < 29 then
          perform pg_sleep(2);
        end if;
      end loop;
    end $p$;
  end if;
end $$;

-- The user's side (app schema, as the signed-in user).
create function app.create_webhook(p_url text, p_events text[], p_description text, p_secret text)
returns engine.webhook_endpoints
language plpgsql security definer set search_path = '' as $$
declare
  made engine.webhook_endpoints;
begin
  if (select count(*) from engine.webhook_endpoints where user_id = app.require_user()) >= 10 then
    raise exception using errcode = 'RF400', message = 'At most 10 webhook endpoints per user';
  end if;
  insert into engine.webhook_endpoints (user_id, url, events, description, secret)
  values (app.require_user(), p_url, p_events, p_description, p_secret)
  returning * into made;
  return made;
end $$;

create function app.owned_webhook(p_id uuid) returns engine.webhook_endpoints
language plpgsql stable security definer set search_path = '' as $$
declare
  found_row engine.webhook_endpoints;
begin
  select * into found_row from engine.webhook_endpoints where id = p_id and user_id = app.require_user();
  if not found then
    raise exception using errcode = 'RF404', message = 'Webhook endpoint not found';
  end if;
  return found_row;
end $$;

create function app.list_webhooks()
returns table (id uuid, url text, events text[], description text, created_at timestamptz, rotated_at timestamptz)
language sql stable security definer set search_path = '' as $$
  select e.id, e.url, e.events, e.description, e.created_at, e.rotated_at from engine.webhook_endpoints e
  where e.user_id = app.require_user() order by e.created_at
$$;

create function app.rotate_webhook_secret(p_id uuid, p_secret text) returns engine.webhook_endpoints
language sql security definer set search_path = '' as $$
  update engine.webhook_endpoints set secret = p_secret, rotated_at = now()
  where id = (app.owned_webhook(p_id)).id returning *
$$;

create function app.delete_webhook(p_id uuid) returns void
language sql security definer set search_path = '' as $$
  delete from engine.webhook_endpoints where id = (app.owned_webhook(p_id)).id
$$;

create function app.webhook_deliveries(p_id uuid, p_limit integer default 50)
returns table (id bigint, message_id text, event text, status text, attempt integer, payload jsonb,
               created_at timestamptz, completed_at timestamptz, attempts jsonb)
language sql stable security definer set search_path = '' as $$
  select d.id, d.message_id, d.event, d.status, d.attempt, d.payload, d.created_at, d.completed_at,
         coalesce((select jsonb_agg(jsonb_build_object('attempt', a.attempt, 'responseStatus', a.response_status,
                                                       'error', a.error, 'durationMs', a.duration_ms, 'at', a.created_at) order by a.attempt)
                   from engine.webhook_attempts a where a.delivery_id = d.id), '[]')
  from engine.webhook_deliveries d
  where d.endpoint_id = (app.owned_webhook(p_id)).id
  order by d.id desc limit least(greatest(p_limit, 1), 100)
$$;

-- A replay sends the event again as a new delivery with the same webhook-id (receivers that
-- already handled it can tell), whatever became of the first.
create function app.replay_webhook_delivery(p_delivery_id bigint) returns bigint
language plpgsql security definer set search_path = '' as $$
declare
  made bigint;
begin
  insert into engine.webhook_deliveries (endpoint_id, user_id, message_id, event, payload)
  select d.endpoint_id, d.user_id, d.message_id, d.event, d.payload from engine.webhook_deliveries d
  where d.id = p_delivery_id and d.user_id = app.require_user()
  returning id into made;
  if made is null then
    raise exception using errcode = 'RF404', message = 'Webhook delivery not found';
  end if;
  perform engine.wake('webhook-deliver');
  return made;
end $$;

revoke execute on all functions in schema app from public, anon;
grant execute on all functions in schema app to authenticated, service_role;
grant execute on function engine.claim_webhook_deliveries(integer), engine.finish_webhook_attempt(bigint, integer, boolean, integer, text, integer),
  engine.dispatch_webhooks() to service_role;
