CREATE TABLE `audit_staged` (
	`id` text NOT NULL,
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
	`detail` text,
	`seq` integer,
	`hash` text
);
