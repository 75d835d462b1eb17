DROP INDEX "audit_org_conversation";--> statement-breakpoint
DROP INDEX "attempts_org_status";--> statement-breakpoint
DROP INDEX "events_state";--> statement-breakpoint
DROP INDEX "jobs_lane";--> statement-breakpoint
CREATE INDEX "audit_org_conversation" ON "audit_log" USING btree ("org_id","conversation_id","id") WHERE conversation_id is not null;--> statement-breakpoint
CREATE INDEX "attempts_org_status" ON "delivery_attempts" USING btree ("org_id","at") WHERE status = 429;--> statement-breakpoint
CREATE INDEX "events_state" ON "events" USING btree ("state","id") WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX "jobs_lane" ON "jobs" USING btree ("lane","status","id") WHERE status in ('pending', 'running');