CREATE TABLE "finished_job_counts" (
	"status" text NOT NULL,
	"shard" integer NOT NULL,
	"n" bigint NOT NULL,
	CONSTRAINT "finished_job_counts_status_shard_pk" PRIMARY KEY("status","shard")
);
--> statement-breakpoint
-- finished_job_counts follows jobs, as the SQLite triggers of migrations/0017 do, with two
-- differences. Each connection adds to its own shard: one shared row would make every instance's
-- settles wait on it. And the triggers run once per statement, summing its rows: a row trigger
-- adding to the same row for each job of a batch left a chain of versions each next update walked
-- (1M finished jobs inserted at once ran past the statement timeout).
CREATE FUNCTION finished_job_counts_add(finished_status text, delta bigint) RETURNS void
  LANGUAGE sql AS $$
  INSERT INTO finished_job_counts (status, shard, n)
    VALUES (finished_status, pg_backend_pid() % 16, delta)
    ON CONFLICT (status, shard) DO UPDATE SET n = finished_job_counts.n + excluded.n;
$$;
--> statement-breakpoint
CREATE FUNCTION finished_job_counts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM finished_job_counts_add(status, count(*))
      FROM new_jobs WHERE status IN ('succeeded', 'failed') GROUP BY status;
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM finished_job_counts_add(status, sum(d)) FROM (
        SELECT status, 1 AS d FROM new_jobs WHERE status IN ('succeeded', 'failed')
        UNION ALL SELECT status, -1 FROM old_jobs WHERE status IN ('succeeded', 'failed')
      ) changed
      GROUP BY status HAVING sum(d) <> 0;
  ELSE
    PERFORM finished_job_counts_add(status, -count(*))
      FROM old_jobs WHERE status IN ('succeeded', 'failed') GROUP BY status;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER finished_job_counts_insert AFTER INSERT ON jobs
  REFERENCING NEW TABLE AS new_jobs FOR EACH STATEMENT EXECUTE FUNCTION finished_job_counts_sync();
--> statement-breakpoint
CREATE TRIGGER finished_job_counts_update AFTER UPDATE ON jobs
  REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION finished_job_counts_sync();
--> statement-breakpoint
CREATE TRIGGER finished_job_counts_delete AFTER DELETE ON jobs
  REFERENCING OLD TABLE AS old_jobs FOR EACH STATEMENT EXECUTE FUNCTION finished_job_counts_sync();
--> statement-breakpoint
-- The jobs already finished. CREATE TRIGGER holds every writer of jobs off until the migration
-- commits, so no job finishes between this count and the triggers.
INSERT INTO finished_job_counts (status, shard, n)
  SELECT status, 0, count(*) FROM jobs WHERE status IN ('succeeded', 'failed') GROUP BY status;
