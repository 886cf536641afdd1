-- A user's files may take up to engine.settings.storage_quota_bytes; an upload straight to
-- Storage is refused over it, and takes one request from the user's API rate limit.
begin;
select plan(5);

update engine.settings set storage_quota_bytes = 1000, api_requests_per_minute = 60, api_burst = 2;
insert into auth.users (id, email) values ('00000000-0000-0000-0000-00000000a001', 'quota@test.local');

select is(engine.storage_quota_refusal(999), null, 'under the quota there is room');
select is(engine.storage_quota_refusal(1000), 'Your files take 1 MB of your 0 MB of storage: delete some before adding more',
          'at the quota there is none, and the answer says how much is used');
select is(engine.storage_upload_refusal('00000000-0000-0000-0000-00000000a001', 10), null, 'a direct upload with room goes ahead');
select is(engine.storage_upload_refusal('00000000-0000-0000-0000-00000000a001', 10), null, 'so does a second (the burst is 2)');
select is(engine.storage_upload_refusal('00000000-0000-0000-0000-00000000a001', 10), 'Too many requests: at most 60 per minute',
          'a third within the same second is over the rate limit');

select * from finish();
rollback;
