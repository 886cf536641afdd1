-- Per-user storage (issue 26): a quota on the bytes a user's files take in the selfies and
-- assets buckets, and direct uploads through Storage counted by the same per-user rate limit
-- as the API. The assets function checks the quota for API uploads; direct uploads are
-- governed by Storage's insert policy (hosted) or the Storage stand-in (local), which both
-- ask engine.storage_upload_refusal.

alter table engine.settings add column if not exists storage_quota_bytes bigint not null default 1073741824
  check (storage_quota_bytes > 0);

-- Why a user whose files take p_used_bytes may not store one more, or null.
create or replace function engine.storage_quota_refusal(p_used_bytes bigint) returns text
language sql stable security definer set search_path = '' as $$
  select format('Your files take %s MB of your %s MB of storage: delete some before adding more',
                ceil(p_used_bytes / 1048576.0), s.storage_quota_bytes / 1048576)
  from engine.settings s where p_used_bytes >= s.storage_quota_bytes
$$;

-- The same for an upload straight to Storage, which also takes one request from the user's
-- API rate limit (engine.take_api_request): null when it may go ahead.
create or replace function engine.storage_upload_refusal(p_user_id uuid, p_used_bytes bigint) returns text
language plpgsql security definer set search_path = '' as $$
declare
  refusal text := engine.storage_quota_refusal(p_used_bytes);
begin
  if refusal is not null then
    return refusal;
  end if;
  if not (select t.allowed from engine.take_api_request(p_user_id) t) then
    return format('Too many requests: at most %s per minute', (select s.api_requests_per_minute from engine.settings s));
  end if;
  return null;
end $$;

revoke execute on function engine.storage_quota_refusal(bigint) from public, anon, authenticated;
revoke execute on function engine.storage_upload_refusal(uuid, bigint) from public, anon, authenticated;

-- Hosted Storage: the assets bucket takes FLAC; the insert policy on storage.objects also asks for room and a request token,
-- counting the caller's bytes from storage.objects. (The local stand-in asks the same function,
-- counting its files on disk; this block is skipped there.)
do $$
begin
  if to_regclass('storage.objects') is null then
    return;
  end if;
  -- Audio assets are stored as FLAC (converted at upload).
  update storage.buckets set allowed_mime_types = array_append(allowed_mime_types, 'audio/flac')
  where id = 'assets' and not 'audio/flac' = any (allowed_mime_types);
  execute $f$
    create or replace function app.storage_upload_allowed() returns boolean
    language sql volatile security definer set search_path = '' as $b$
      select engine.storage_upload_refusal(auth.uid(), (
        select coalesce(sum((o.metadata ->> 'size')::bigint), 0) from storage.objects o
        where o.bucket_id in ('selfies', 'assets') and (storage.foldername(o.name))[1] = auth.uid()::text)) is null
    $b$ $f$;
  execute 'revoke execute on function app.storage_upload_allowed() from public, anon';
  execute 'grant execute on function app.storage_upload_allowed() to authenticated';
  execute 'drop policy if exists "users upload selfies and assets to their own folder" on storage.objects';
  execute $p$
    create policy "users upload selfies and assets to their own folder" on storage.objects for insert to authenticated
    with check (bucket_id in ('selfies', 'assets') and (storage.foldername(name))[1] = (select auth.uid())::text
                and app.storage_upload_allowed()) $p$;
end $$;

-- Audio assets are converted once, by the media worker, to the one format the mixer reads
-- (FLAC, 48 kHz, stereo: worker/asset-conversion.ts). An audio upload is stored as it came and
-- is `processing` until then; a spec may name only a `ready` one. Edge functions have no
-- ffmpeg, so the conversion is the worker's, like every other ffmpeg run.
create type public.asset_status as enum ('processing', 'ready', 'failed');
alter table public.assets add column status public.asset_status not null default 'ready',
  add column error text;

create table engine.asset_conversions (
  asset_id uuid primary key references public.assets (id) on delete cascade,
  attempts integer not null default 0,
  lease_until timestamptz,
  created_at timestamptz not null default now()
);
alter table engine.asset_conversions enable row level security;

-- An upload, as create_asset in the authoring migration took it; audio not yet FLAC starts
-- `processing` and wakes the media worker.
create or replace function app.create_asset(p_type public.asset_type, p_name text, p_tags text[], p_path text, p_mime text,
  p_size_bytes bigint, p_sha256 text, p_width integer, p_height integer, p_duration_seconds numeric)
returns public.assets
language plpgsql security definer set search_path = '' as $$
declare
  uid uuid := app.require_user();
  created public.assets;
  converts boolean := p_type = 'audio' and p_mime <> 'audio/flac';
begin
  if split_part(p_path, '/', 1) <> uid::text then
    raise exception using errcode = 'RF403', message = 'An asset must be in your own folder';
  end if;
  insert into public.assets (user_id, type, name, tags, path, mime, size_bytes, sha256, width, height, duration_seconds, status)
  values (uid, p_type, p_name, p_tags, p_path, p_mime, p_size_bytes, p_sha256, p_width, p_height, p_duration_seconds,
          case when converts then 'processing' else 'ready' end::public.asset_status)
  returning * into created;
  if converts then
    insert into engine.asset_conversions (asset_id) values (created.id);
    perform pg_notify('engine_wake', 'media-worker');
  end if;
  return created;
exception when check_violation then
  raise exception using errcode = 'RF400', message = 'An asset needs a name of 1 to 200 characters and at most 20 tags';
end $$;

-- The next conversion for a media worker, leased for p_lease; one whose worker died is taken
-- again when its lease ends, and fails after 3 attempts.
create or replace function engine.claim_asset_conversion(p_lease interval)
returns table (asset_id uuid, path text, mime text)
language plpgsql security definer set search_path = '' as $$
begin
  with given_up as (
    delete from engine.asset_conversions c where c.attempts >= 3 and c.lease_until < now() returning c.asset_id)
  update public.assets a set status = 'failed', error = 'The audio could not be converted'
  from given_up g where a.id = g.asset_id;
  return query
  update engine.asset_conversions c set attempts = c.attempts + 1, lease_until = now() + p_lease
  from public.assets a
  where c.asset_id = (select c2.asset_id from engine.asset_conversions c2
                      where c2.attempts < 3 and (c2.lease_until is null or c2.lease_until < now())
                      order by c2.created_at for update skip locked limit 1)
    and a.id = c.asset_id
  returning c.asset_id, a.path, a.mime;
end $$;

-- A conversion's end: the asset now names the FLAC file (ready), or says why it failed.
-- False when the asset was deleted meanwhile (the worker then removes what it stored).
create or replace function engine.finish_asset_conversion(p_asset_id uuid, p_path text, p_size_bytes bigint,
  p_sha256 text, p_duration_seconds numeric, p_error text)
returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  delete from engine.asset_conversions where asset_id = p_asset_id;
  update public.assets set
    status = case when p_error is null then 'ready' else 'failed' end::public.asset_status,
    error = p_error,
    path = coalesce(p_path, path), mime = case when p_error is null then 'audio/flac' else mime end,
    size_bytes = coalesce(p_size_bytes, size_bytes), sha256 = coalesce(p_sha256, sha256),
    duration_seconds = coalesce(p_duration_seconds, duration_seconds)
  where id = p_asset_id and status = 'processing';
  return found;
end $$;

revoke execute on function engine.claim_asset_conversion(interval) from public, anon, authenticated;
revoke execute on function engine.finish_asset_conversion(uuid, text, bigint, text, numeric, text) from public, anon, authenticated;
