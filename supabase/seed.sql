-- Local development data: where dispatch sends wake-ups, and a demo user with credits.
-- On a hosted project set the two vault secrets yourself (see README, "Deploy").
select vault.create_secret('http://127.0.0.1:54321/functions/v1', 'functions_url',
  'Base URL of the edge functions that pg_net wakes');
-- The well-known local service_role key of `supabase start` (JWT secret
-- super-secret-jwt-token-with-at-least-32-characters-long).
select vault.create_secret(
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU',
  'service_role_key', 'Service key the dispatcher sends to internal functions');

insert into auth.users (id, email, encrypted_password)
values ('00000000-0000-4000-8000-00000000d3a0', 'demo@reelforge.local',
        extensions.crypt('demo-password', extensions.gen_salt('bf')));
select public.grant_credits('00000000-0000-4000-8000-00000000d3a0', 100000);
