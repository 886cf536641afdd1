-- Caps that hold under concurrency (issue 26.8): the webhook endpoint cap, delivery fan-out
-- per user, and one retry of a task at a time.

-- At most 10 endpoints per user, counted under a per-user lock: concurrent creates used to
-- read the same count and all insert (12 made with concurrent POSTs).
create or replace function app.create_webhook(p_url text, p_events text[], p_description text, p_secret text)
returns engine.webhook_endpoints
language plpgsql security definer set search_path = '' as $$
declare
  uid uuid := app.require_user();
  made engine.webhook_endpoints;
begin
  perform pg_advisory_xact_lock(hashtextextended('webhook_endpoints:' || uid::text, 0));
  if (select count(*) from engine.webhook_endpoints where user_id = uid) >= 10 then
    raise exception using errcode = 'RF400', message = 'At most 10 webhook endpoints per user';
  end if;
  insert into engine.webhook_endpoints (user_id, url, events, description, secret)
  values (uid, p_url, p_events, p_description, p_secret)
  returning * into made;
  return made;
end $$;

-- Deliveries in flight per user: a user whose events fan out to many deliveries (or whose
-- endpoint is slow) holds at most this many connections; the rest wait their turn, and other
-- users' deliveries are claimed meanwhile (one user used to get 112 connections at once).
create or replace function engine.webhook_deliveries_per_user() returns integer
language sql immutable set search_path = '' as $$ select 4 $$;

-- Claimers take turns (a transaction lock), so the in-flight count each reads is the one it
-- leaves; each user's due deliveries are taken oldest first up to the per-user cap.
create or replace function engine.claim_webhook_deliveries(p_limit integer default 20)
returns table (delivery_id bigint, attempt integer, message_id text, payload jsonb, url text, secret text)
language sql security definer set search_path = '' as $$
  select pg_advisory_xact_lock(hashtextextended('engine.claim_webhook_deliveries', 0));
  with in_flight as (
    select d.user_id, count(*) as n from engine.webhook_deliveries d where d.status = 'delivering' group by d.user_id
  ), ranked as (
    select d.id, d.next_attempt_at,
           coalesce(f.n, 0) + row_number() over (partition by d.user_id order by d.next_attempt_at, d.id) as place
    from engine.webhook_deliveries d left join in_flight f on f.user_id = d.user_id
    where d.status = 'pending' and d.next_attempt_at <= now()
  ), due as (
    select r.id from ranked r where r.place <= engine.webhook_deliveries_per_user()
    order by r.next_attempt_at limit p_limit
  )
  update engine.webhook_deliveries d
  set status = 'delivering', attempt = d.attempt + 1, lease_until = now() + interval '60 seconds'
  from due, engine.webhook_endpoints e
  where d.id = due.id and e.id = d.endpoint_id
  returning d.id, d.attempt, d.message_id, d.payload, e.url, e.secret
$$;

-- One retry of a task at a time: the row is locked first, so a concurrent retry waits and then
-- finds the task already running (a 400 naming its status) instead of reopening the same
-- tasks twice (4 of 10 concurrent retries of one scene answered 500).
create or replace function app.retry_segments(p_generation_id uuid, p_indexes integer[]) returns public.generations
language plpgsql security definer set search_path = '' as $$
declare
  target public.generations := app.owned_generation(p_generation_id);
  states jsonb;
begin
  select * into target from public.generations where id = target.id for update;
  if target.pipeline <> 'movie' then
    raise exception using errcode = 'RF400', message = 'Only a movie''s segments can be retried';
  end if;
  select jsonb_object_agg(m.task_index, m.status) into states from app.movie_segments(target.id) m;
  if exists (select 1 from unnest(p_indexes) i where not states ? i::text) then
    raise exception using errcode = 'RF400', message = 'segmentIds names a scene this task does not have';
  end if;
  if target.status = 'failed' then
    if exists (select 1 from jsonb_each_text(states) e where e.value = 'failed' and e.key::integer <> all(p_indexes)) then
      raise exception using errcode = 'RF400',
        message = 'Other scenes failed too: name every failed scene in segmentIds';
    end if;
    if exists (select 1 from unnest(p_indexes) i where states ->> i::text <> 'failed') then
      raise exception using errcode = 'RF400',
        message = 'Only failed scenes of a failed task can be retried; retry the completed ones after it completes';
    end if;
    return app.retry_generation(target.id);
  elsif target.status = 'completed' then
    -- The run shows the step it reopens, not the merge it last ran.
    update public.generations set step = 'segment' where id = target.id;
    perform engine.reopen_tasks(target.id, 'segment', p_indexes);
    select * into target from public.generations where id = target.id;
    return target;
  end if;
  raise exception using errcode = 'RF400',
    message = format('Only a failed or completed task can be retried; this one is %s', target.status);
end $$;
revoke execute on function engine.webhook_deliveries_per_user() from public;
