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
