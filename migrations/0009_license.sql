ALTER TABLE `tenants` ADD `license_status` text DEFAULT 'licensed' NOT NULL;--> statement-breakpoint
ALTER TABLE `tenants` ADD `license_checked_at` integer;