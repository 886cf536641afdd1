-- Dispatch: pg_net wakes the function that owns the step. Ids only; pg_net is a wake-up,
-- reconcile is the guarantee.

create function public.functions_endpoint(p_function text, out url text, out headers jsonb)
language sql stable security definer set search_path = '' as $$
  select
    (select decrypted_secret from vault.decrypted_secrets where name = 'functions_url')
      || '/' || p_function,
    jsonb_build_object(
      'Content-Type', 'application/json',
      'Authorization', 'Bearer ' ||
        (select decrypted_secret from vault.decrypted_secrets where name = 'service_role_key'))
$$;

create function public.post_to_function(p_function text, p_body jsonb) returns bigint
language plpgsql security definer set search_path = '' as $$
declare
  target record := public.functions_endpoint(p_function);
begin
  if target.url is null then
    raise exception 'vault secrets functions_url and service_role_key must be set';
  end if;
  return net.http_post(url := target.url, body := p_body, headers := target.headers,
                       timeout_milliseconds := 10000);
end $$;

create function public.dispatch_step() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform public.post_to_function(s.function_name,
    jsonb_build_object('generation_id', new.id, 'step', new.step))
  from public.pipeline_steps s
  where s.pipeline = new.pipeline and s.step = new.step;
  return null;
end $$;

create trigger generations_dispatch_insert after insert on public.generations
  for each row when (new.dispatch_count > 0) execute function public.dispatch_step();
-- A counter, not the timestamp: two dispatches in one transaction share now(). Not
-- "update of": the guard trigger sets it, and UPDATE OF sees only SET lists.
create trigger generations_dispatch_update after update on public.generations
  for each row when (new.dispatch_count <> old.dispatch_count and new.status = 'queued')
  execute function public.dispatch_step();
