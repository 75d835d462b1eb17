CREATE TABLE `delivery_attempts` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`job_id` text NOT NULL,
	`event_id` text NOT NULL,
	`at` integer NOT NULL,
	`operation` text NOT NULL,
	`status` integer,
	`outcome` text NOT NULL,
	`code` text,
	`correlation_id` text,
	`duration_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `attempts_event` ON `delivery_attempts` (`org_id`,`event_id`);--> statement-breakpoint
CREATE INDEX `attempts_org_status` ON `delivery_attempts` (`org_id`,`status`,`at`);