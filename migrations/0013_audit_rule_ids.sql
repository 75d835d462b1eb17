CREATE TABLE `audit_rule_ids` (
	`org_id` text NOT NULL,
	`rule_id` text NOT NULL,
	`audit_id` text NOT NULL,
	PRIMARY KEY(`org_id`, `rule_id`, `audit_id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TRIGGER `audit_rule_ids_insert` AFTER INSERT ON `audit_log` WHEN json_valid(new.`rule_ids`) BEGIN
	INSERT OR IGNORE INTO `audit_rule_ids` (`org_id`, `rule_id`, `audit_id`)
		SELECT new.`org_id`, `value`, new.`id` FROM json_each(new.`rule_ids`) WHERE `type` = 'text';
END;
--> statement-breakpoint
CREATE TRIGGER `audit_rule_ids_delete` AFTER DELETE ON `audit_log` WHEN json_valid(old.`rule_ids`) BEGIN
	DELETE FROM `audit_rule_ids` WHERE `org_id` = old.`org_id` AND `audit_id` = old.`id`
		AND `rule_id` IN (SELECT `value` FROM json_each(old.`rule_ids`));
END;
--> statement-breakpoint
CREATE TRIGGER `audit_rule_ids_update` AFTER UPDATE OF `org_id`, `id`, `rule_ids` ON `audit_log` BEGIN
	DELETE FROM `audit_rule_ids` WHERE `org_id` = old.`org_id` AND `audit_id` = old.`id`
		AND `rule_id` IN (SELECT `value` FROM json_each(iif(json_valid(old.`rule_ids`), old.`rule_ids`, '[]')));
	INSERT OR IGNORE INTO `audit_rule_ids` (`org_id`, `rule_id`, `audit_id`)
		SELECT new.`org_id`, `value`, new.`id` FROM json_each(iif(json_valid(new.`rule_ids`), new.`rule_ids`, '[]')) WHERE `type` = 'text';
END;
--> statement-breakpoint
INSERT OR IGNORE INTO `audit_rule_ids` (`org_id`, `rule_id`, `audit_id`)
	SELECT a.`org_id`, j.`value`, a.`id`
	FROM `audit_log` a, json_each(iif(json_valid(a.`rule_ids`), a.`rule_ids`, '[]')) j
	WHERE a.`rule_ids` IS NOT NULL AND j.`type` = 'text';
