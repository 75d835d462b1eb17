CREATE TABLE `finished_job_counts` (
	`status` text NOT NULL,
	`shard` integer NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`status`, `shard`)
);
--> statement-breakpoint
INSERT INTO `finished_job_counts` (`status`, `shard`, `n`)
	SELECT s.`status`, 0, (SELECT count(*) FROM `jobs` WHERE `jobs`.`status` = s.`status`)
	FROM (SELECT 'succeeded' AS `status` UNION ALL SELECT 'failed') s;
--> statement-breakpoint
CREATE TRIGGER `finished_job_counts_insert` AFTER INSERT ON `jobs`
	WHEN new.`status` IN ('succeeded', 'failed') BEGIN
	UPDATE `finished_job_counts` SET `n` = `n` + 1 WHERE `status` = new.`status` AND `shard` = 0;
END;
--> statement-breakpoint
CREATE TRIGGER `finished_job_counts_update` AFTER UPDATE OF `status` ON `jobs`
	WHEN old.`status` IS NOT new.`status`
		AND (old.`status` IN ('succeeded', 'failed') OR new.`status` IN ('succeeded', 'failed')) BEGIN
	UPDATE `finished_job_counts` SET `n` = `n` - 1 WHERE `status` = old.`status` AND `shard` = 0;
	UPDATE `finished_job_counts` SET `n` = `n` + 1 WHERE `status` = new.`status` AND `shard` = 0;
END;
--> statement-breakpoint
CREATE TRIGGER `finished_job_counts_delete` AFTER DELETE ON `jobs`
	WHEN old.`status` IN ('succeeded', 'failed') BEGIN
	UPDATE `finished_job_counts` SET `n` = `n` - 1 WHERE `status` = old.`status` AND `shard` = 0;
END;
