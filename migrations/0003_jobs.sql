CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`org_id` text NOT NULL,
	`lane` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`max_attempts` integer NOT NULL,
	`run_at` integer NOT NULL,
	`locked_until` integer,
	`last_error` text,
	`idempotency_key` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_idempotency` ON `jobs` (`kind`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `jobs_ready` ON `jobs` (`status`,`run_at`);--> statement-breakpoint
CREATE INDEX `jobs_lane` ON `jobs` (`lane`,`status`,`id`);--> statement-breakpoint
CREATE INDEX `jobs_org` ON `jobs` (`org_id`,`status`);