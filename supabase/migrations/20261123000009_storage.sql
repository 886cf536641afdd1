-- Private buckets: selfies (users write and read under their own id) and outputs (written by the
-- functions with the service key, read through signed URLs). On the local stack the
-- Storage stand-in applies the same rule and this block is skipped.
do $$
begin
  if to_regclass('storage.buckets') is null then
    return;
  end if;
  insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
  values ('selfies', 'selfies', false, 10485760, array['image/jpeg', 'image/png', 'image/webp']),
         ('outputs', 'outputs', false, null, null)
  on conflict (id) do nothing;
  execute $p$
    create policy "users upload selfies to their own folder" on storage.objects for insert to authenticated
    with check (bucket_id = 'selfies' and (storage.foldername(name))[1] = (select auth.uid())::text) $p$;
  execute $p$
    create policy "users read their own selfies" on storage.objects for select to authenticated
    using (bucket_id = 'selfies' and (storage.foldername(name))[1] = (select auth.uid())::text) $p$;
end $$;
