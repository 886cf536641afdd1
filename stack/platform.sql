-- What Supabase's Postgres image provides, for a bare PostgreSQL 15 (local stack only).
-- Every object is created only where the real one is absent, so this file is a no-op on
-- a Supabase database. Stand-ins are labelled as such.

-- Roles ----------------------------------------------------------------------------------
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit password 'postgres';
  end if;
end $$;
grant anon, authenticated, service_role to authenticator;
grant anon, authenticated, service_role to postgres;

create schema if not exists extensions;
grant usage on schema extensions to anon, authenticated, service_role;
create extension if not exists pgcrypto with schema extensions;
-- As on Supabase, extension functions resolve without a schema prefix.
alter database postgres set search_path = "$user", public, extensions;
grant usage on schema public to anon, authenticated, service_role;

-- auth: the tables and helpers GoTrue and PostgREST give ---------------------------------
create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

create table if not exists auth.users (
  id uuid primary key default gen_random_uuid(),
  aud text default 'authenticated',
  role text default 'authenticated',
  email text unique,
  encrypted_password text,
  email_confirmed_at timestamptz default now(),
  raw_app_meta_data jsonb default '{}'::jsonb,
  raw_user_meta_data jsonb default '{}'::jsonb,
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);

-- Same definitions as Supabase's auth schema: claims come from request.jwt.claims.
create or replace function auth.jwt() returns jsonb language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;
create or replace function auth.uid() returns uuid language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;
create or replace function auth.role() returns text language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;
grant execute on function auth.jwt(), auth.uid(), auth.role() to anon, authenticated, service_role;

-- vault: stand-in for supabase_vault (no encryption at rest locally; same SQL interface) ---
do $$
begin
  if not exists (select 1 from pg_extension where extname = 'supabase_vault') then
    create schema if not exists vault;
    create table if not exists vault.secrets (
      id uuid primary key default gen_random_uuid(),
      name text unique,
      description text not null default '',
      secret text not null,
      key_id uuid,
      nonce bytea,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create or replace view vault.decrypted_secrets as
      select id, name, description, secret, secret as decrypted_secret, key_id, nonce,
             created_at, updated_at
      from vault.secrets;
    create or replace function vault.create_secret(
      new_secret text, new_name text default null, new_description text default '',
      new_key_id uuid default null
    ) returns uuid language sql as $f$
      insert into vault.secrets (secret, name, description, key_id)
      values (new_secret, new_name, coalesce(new_description, ''), new_key_id)
      returning id
    $f$;
    create or replace function vault.update_secret(
      secret_id uuid, new_secret text default null, new_name text default null,
      new_description text default null, new_key_id uuid default null
    ) returns void language sql as $f$
      update vault.secrets set secret = coalesce(new_secret, secret), name = coalesce(new_name, name),
        description = coalesce(new_description, description), updated_at = now()
      where id = secret_id
    $f$;
    revoke all on schema vault from public;
  end if;
end $$;

-- realtime: stand-in for the Realtime server's schema (messages, send, topic) -------------
do $$
begin
  if not exists (select 1 from pg_namespace where nspname = 'realtime') then
    create schema realtime;
    grant usage on schema realtime to anon, authenticated, service_role;
    create table realtime.messages (
      id bigserial primary key,
      topic text not null,
      extension text not null default 'broadcast',
      payload jsonb,
      event text,
      private boolean default false,
      inserted_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    alter table realtime.messages enable row level security;
    grant select, insert on realtime.messages to authenticated;
    -- The Realtime server sets realtime.topic for the channel a client joins.
    create function realtime.topic() returns text language sql stable as $f$
      select nullif(current_setting('realtime.topic', true), '')::text
    $f$;
    grant execute on function realtime.topic() to anon, authenticated, service_role;
    create function realtime.send(payload jsonb, event text, topic text, private boolean default true)
    returns void language plpgsql as $f$
    declare
      message_id bigint;
    begin
      insert into realtime.messages (payload, event, topic, private, extension)
      values (payload, event, topic, private, 'broadcast') returning id into message_id;
      -- Notifications arrive in commit order, as the real server reads the WAL.
      perform pg_notify('realtime', message_id::text);
    end $f$;
  end if;
end $$;

-- net: stand-in for pg_net with its exact signatures. Requests wait in a queue that the
-- local stack's worker drains after commit (as pg_net's background worker does). --------
do $$
begin
  if not exists (select 1 from pg_available_extensions where name = 'pg_net') then
    create schema if not exists net;
    create table if not exists net.http_request_queue (
      id bigserial primary key,
      method text not null,
      url text not null,
      headers jsonb not null,
      body bytea,
      timeout_milliseconds integer not null
    );
    create unlogged table if not exists net._http_response (
      id bigint,
      status_code integer,
      content_type text,
      headers jsonb,
      content text,
      timed_out boolean,
      error_msg text,
      created timestamptz not null default now()
    );
    create index if not exists _http_response_created_idx on net._http_response (created);

    create or replace function net.http_post(
      url text, body jsonb default '{}'::jsonb, params jsonb default '{}'::jsonb,
      headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
      timeout_milliseconds integer default 5000
    ) returns bigint language plpgsql security definer set search_path = '' as $f$
    declare request_id bigint; query text;
    begin
      select coalesce('?' || string_agg(format('%s=%s', key, value), '&'), '')
        into query from jsonb_each_text(params);
      insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
      values ('POST', url || query, headers, convert_to(body::text, 'UTF8'), timeout_milliseconds)
      returning id into request_id;
      perform pg_notify('net_http_request', request_id::text);
      return request_id;
    end $f$;

    create or replace function net.http_get(
      url text, params jsonb default '{}'::jsonb, headers jsonb default '{}'::jsonb,
      timeout_milliseconds integer default 5000
    ) returns bigint language plpgsql security definer set search_path = '' as $f$
    declare request_id bigint; query text;
    begin
      select coalesce('?' || string_agg(format('%s=%s', key, value), '&'), '')
        into query from jsonb_each_text(params);
      insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
      values ('GET', url || query, headers, null, timeout_milliseconds)
      returning id into request_id;
      perform pg_notify('net_http_request', request_id::text);
      return request_id;
    end $f$;
  end if;
end $$;

-- pg_cron: preloaded by the local stack; Supabase enables it from the dashboard.
create extension if not exists pg_cron with schema pg_catalog;  -- where Supabase puts it
