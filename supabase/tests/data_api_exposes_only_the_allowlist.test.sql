-- What a hosted project's Data API (PostgREST, schemas public and graphql_public) lets anon
-- and authenticated reach: exactly these functions and columns. Secrets (tokens, leases,
-- provider task ids and URLs) live in the engine schema, which it does not expose.
begin;
select plan(6);

select is((
  select string_agg(r.rolname || ':' || n.nspname::text || '.' || p.proname::text, ' '
                    order by r.rolname || ':' || n.nspname::text || '.' || p.proname::text)
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  cross join (values ('anon'), ('authenticated')) r (rolname)
  where n.nspname in ('public', 'graphql_public') and has_function_privilege(r.rolname, p.oid, 'execute')),
  'anon:public.public_gallery authenticated:public.price_quote authenticated:public.public_gallery',
  'anon and authenticated may execute only the gallery and the price quote through the Data API');

select is((
  select string_agg(t.line, ' ' order by t.line) from (
    select c.table_name::text || '(' || string_agg(c.column_name::text, ',' order by c.column_name::text) || ')' as line
    from information_schema.columns c
    where c.table_schema in ('public', 'graphql_public') and has_column_privilege('authenticated',
          format('%I.%I', c.table_schema, c.table_name), c.column_name, 'select')
    group by c.table_name) t),
  'assets(created_at,duration_seconds,error,height,id,mime,name,path,sha256,size_bytes,status,tags,type,user_id,width) '
  || 'characters(created_at,id,name,reference_image_path,user_id) credit_accounts(balance,updated_at,user_id) '
  || 'credit_ledger(amount,billing_round,call_id,created_at,generation_id,id,kind,reason,step,task_index,user_id) '
  || 'generation_batches(created_at,id,parallel,user_id) '
  || 'generation_events(attempt,created_at,generation_id,id,message,progress,status,step,task_index,user_id) '
  || 'generations(batch_id,billing_round,completed_at,created_at,credits_charged,credits_refunded,credits_reserved,deadline,error_code,error_message,eta_seconds,id,idempotency_key,inputs,outputs,pipeline,price_plan,progress,progress_revision,remaining_steps,request_fingerprint,started_at,status,step,updated_at,user_id,visibility) '
  || 'movie_templates(created_at,description,id,name,slug,spec,updated_at,user_id,variables) '
  || 'price_list(credits,label,pipeline,sku)',
  'authenticated reads only these columns (rows further limited to their own by RLS)');

select is_empty($$
  select c.table_name from information_schema.columns c
  where c.table_schema in ('public', 'graphql_public')
    and c.column_name ~ '(token|lease|provider|secret|webhook|password)'
    and (has_column_privilege('authenticated', format('%I.%I', c.table_schema, c.table_name), c.column_name, 'select')
         or has_column_privilege('anon', format('%I.%I', c.table_schema, c.table_name), c.column_name, 'select')) $$,
  'no secret column is readable by anon or authenticated');

select ok(not has_schema_privilege('authenticated', 'engine', 'usage') and not has_schema_privilege('anon', 'engine', 'usage'),
  'the engine schema is out of reach');

-- The app schema (create, cancel, retry, a movie's segments) is not exposed, and never to anon.
select is((select count(*)::int from pg_proc p join pg_namespace n on n.oid = p.pronamespace
           where n.nspname = 'app' and has_function_privilege('anon', p.oid, 'execute')), 0,
  'anon executes nothing in the app schema');

-- A function created later by the migration role is not executable by PUBLIC.
create function public.created_after_the_migrations() returns int language sql as 'select 1';
select ok(not has_function_privilege('anon', 'public.created_after_the_migrations()', 'execute'),
  'default privileges: a new function is not executable by anon');

select * from finish();
rollback;
