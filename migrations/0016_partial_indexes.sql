DROP INDEX `audit_org_conversation`;--> statement-breakpoint
CREATE INDEX `audit_org_conversation` ON `audit_log` (`org_id`,`conversation_id`,`id`) WHERE conversation_id is not null;--> statement-breakpoint
DROP INDEX `attempts_org_status`;--> statement-breakpoint
CREATE INDEX `attempts_org_status` ON `delivery_attempts` (`org_id`,`at`) WHERE status = 429;--> statement-breakpoint
DROP INDEX `events_state`;--> statement-breakpoint
CREATE INDEX `events_state` ON `events` (`state`,`id`) WHERE state = 'pending';--> statement-breakpoint
DROP INDEX `jobs_lane`;--> statement-breakpoint
CREATE INDEX `jobs_lane` ON `jobs` (`lane`,`status`,`id`) WHERE status in ('pending', 'running');