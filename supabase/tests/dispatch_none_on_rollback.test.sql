begin;
select plan(2);

select tests.create_user('rollback@test.local') as uid \gset
update engine.wakeups set posted_at = null, consumed_at = null;
select count(*) as queued_before from net.http_request_queue \gset
savepoint before_create;
select tests.new_generation(:'uid');
select is((select count(*) from net.http_request_queue), (:queued_before + 1)::bigint, 'the create queues one request');
rollback to savepoint before_create;
select is((select count(*) from net.http_request_queue), :queued_before::bigint, 'a rolled back create leaves no request');

select * from finish();
rollback;
