CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`at` integer NOT NULL,
	`kind` text NOT NULL,
	`actor` text NOT NULL,
	`source_id` text,
	`event_id` text,
	`rule_ids` text,
	`conversation_id` text,
	`participant_id` text,
	`outcome` text,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `audit_org_id` ON `audit_log` (`org_id`,`id`);--> statement-breakpoint
CREATE INDEX `audit_org_kind` ON `audit_log` (`org_id`,`kind`,`id`);--> statement-breakpoint
CREATE INDEX `audit_org_conversation` ON `audit_log` (`org_id`,`conversation_id`,`id`);--> statement-breakpoint
CREATE INDEX `audit_org_event` ON `audit_log` (`org_id`,`event_id`);--> statement-breakpoint
CREATE TABLE `tenants` (
	`org_id` text PRIMARY KEY NOT NULL,
	`org_name` text NOT NULL,
	`environment` text NOT NULL,
	`installed_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`requests_per_minute` integer DEFAULT 300 NOT NULL,
	`audit_retention_days` integer DEFAULT 90 NOT NULL,
	`grant_client_id` text NOT NULL,
	`grant_secret_sealed` text NOT NULL,
	`grant_managed` integer DEFAULT false NOT NULL,
	`managed_role_id` text,
	`grant_status` text DEFAULT 'ok' NOT NULL,
	`grant_last_token_at` integer,
	`grant_last_error` text
);
