CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`source_id` text NOT NULL,
	`received_at` integer NOT NULL,
	`dedup_key` text,
	`body` text NOT NULL,
	`headers` text NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_org` ON `events` (`org_id`,`id`);--> statement-breakpoint
CREATE INDEX `events_state` ON `events` (`state`,`id`);--> statement-breakpoint
CREATE TABLE `ingest_keys` (
	`source_id` text NOT NULL,
	`key` text NOT NULL,
	`org_id` text NOT NULL,
	`event_id` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`source_id`, `key`)
);
--> statement-breakpoint
CREATE INDEX `ingest_keys_org` ON `ingest_keys` (`org_id`);--> statement-breakpoint
CREATE TABLE `sources` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`auth` text NOT NULL,
	`secret_sealed` text NOT NULL,
	`previous_secret_sealed` text,
	`previous_valid_until` integer,
	`created_at` integer NOT NULL,
	`rotated_at` integer
);
--> statement-breakpoint
CREATE INDEX `sources_org` ON `sources` (`org_id`,`id`);