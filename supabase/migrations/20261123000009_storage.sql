-- Private buckets: selfies and assets (users write and read under their own id: selfies for
-- the cinematic pipeline, assets (frames, music) for movies) and outputs (written by the
-- functions with the service key, read through signed URLs). On the local stack the Storage
-- stand-in applies the same rules and this block is skipped.
do $$
begin
  if to_regclass('storage.buckets') is null then
    return;
  end if;
  insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
  values ('selfies', 'selfies', false, 10485760, array['image/jpeg', 'image/png', 'image/webp']),
         ('assets', 'assets', false, 52428800, array['image/jpeg', 'image/png', 'image/webp', 'audio/mpeg',
           'audio/wav', 'audio/mp4', 'video/mp4']),
         ('outputs', 'outputs', false, null, null)
  on conflict (id) do nothing;
  execute $p$
    create policy "users upload selfies and assets to their own folder" on storage.objects for insert to authenticated
    with check (bucket_id in ('selfies', 'assets') and (storage.foldername(name))[1] = (select auth.uid())::text) $p$;
  execute $p$
    create policy "users read their own selfies and assets" on storage.objects for select to authenticated
    using (bucket_id in ('selfies', 'assets') and (storage.foldername(name))[1] = (select auth.uid())::text) $p$;
end $$;
