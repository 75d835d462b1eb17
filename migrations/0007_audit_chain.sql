CREATE TABLE `audit_checkpoints` (
	`org_id` text NOT NULL,
	`seq` integer NOT NULL,
	`hash` text NOT NULL,
	`at` integer NOT NULL,
	`signature` text NOT NULL,
	`kid` text NOT NULL,
	PRIMARY KEY(`org_id`, `seq`)
);
--> statement-breakpoint
CREATE TABLE `audit_heads` (
	`org_id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `audit_log` ADD `seq` integer;--> statement-breakpoint
ALTER TABLE `audit_log` ADD `hash` text;--> statement-breakpoint
CREATE UNIQUE INDEX `audit_org_seq` ON `audit_log` (`org_id`,`seq`);