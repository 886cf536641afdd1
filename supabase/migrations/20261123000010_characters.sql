-- Characters (the contract's OC): a user's named reference image, used automatically by
-- model-direct generations that name the character and give no reference image.

create table public.characters (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 100),
  reference_image_path text not null check (reference_image_path ~ '^[0-9a-f-]{36}/[A-Za-z0-9._/-]+$'
                                            and reference_image_path not like '%..%'),
  created_at timestamptz not null default now()
);
create index characters_user_idx on public.characters (user_id, created_at desc);

alter table public.characters enable row level security;
grant select on public.characters to authenticated;
create policy "owners read their characters" on public.characters
  for select to authenticated using (user_id = (select auth.uid()));

-- The image must sit in the caller's own folder of the selfies bucket.
create function app.create_character(p_name text, p_reference_image_path text)
returns public.characters
language plpgsql security definer set search_path = '' as $$
declare
  uid uuid := app.require_user();
  created public.characters;
begin
  if split_part(p_reference_image_path, '/', 1) <> uid::text then
    raise exception using errcode = 'RF403', message = 'The reference image must be in your own folder';
  end if;
  insert into public.characters (user_id, name, reference_image_path)
  values (uid, p_name, p_reference_image_path)
  returning * into created;
  return created;
exception when check_violation then
  raise exception using errcode = 'RF400', message = 'A character needs a name of 1 to 100 characters and an image path';
end $$;

revoke execute on function app.create_character(text, text) from public, anon;
grant execute on function app.create_character(text, text) to authenticated;
