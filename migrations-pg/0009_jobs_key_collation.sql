-- Delivery keys compare byte by byte, as SQLite's do, whatever the database's collation: an
-- event's jobs are a range of keys (`<event id>\0…`), and only the "C" collation lets the
-- jobs_idempotency index serve that range. Under a C.UTF-8 or en_US.UTF-8 database the event page
-- read every job instead (153 ms with 1M jobs, and growing with the week of jobs kept).
-- Same type, so the rows stay as they are; the index on the column is rebuilt.
ALTER TABLE "jobs" ALTER COLUMN "idempotency_key" TYPE text COLLATE "C";
