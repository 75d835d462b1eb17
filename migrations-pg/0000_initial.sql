CREATE TABLE "audit_checkpoints" (
	"org_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL,
	"at" bigint NOT NULL,
	"signature" text NOT NULL,
	"kid" text NOT NULL,
	CONSTRAINT "audit_checkpoints_org_id_seq_pk" PRIMARY KEY("org_id","seq")
);
--> statement-breakpoint
CREATE TABLE "audit_heads" (
	"org_id" text PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"at" bigint NOT NULL,
	"kind" text NOT NULL,
	"actor" text NOT NULL,
	"source_id" text,
	"event_id" text,
	"rule_ids" text,
	"conversation_id" text,
	"participant_id" text,
	"outcome" text,
	"detail" text,
	"seq" bigint,
	"hash" text
);
--> statement-breakpoint
CREATE TABLE "delivery_attempts" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"job_id" text NOT NULL,
	"event_id" text NOT NULL,
	"at" bigint NOT NULL,
	"operation" text NOT NULL,
	"status" integer,
	"outcome" text NOT NULL,
	"code" text,
	"correlation_id" text,
	"duration_ms" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"source_id" text NOT NULL,
	"received_at" bigint NOT NULL,
	"dedup_key" text,
	"body" text NOT NULL,
	"headers" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"replays" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ingest_keys" (
	"source_id" text NOT NULL,
	"key" text NOT NULL,
	"org_id" text NOT NULL,
	"event_id" text NOT NULL,
	"expires_at" bigint NOT NULL,
	CONSTRAINT "ingest_keys_source_id_key_pk" PRIMARY KEY("source_id","key")
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"org_id" text NOT NULL,
	"lane" text NOT NULL,
	"payload" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer NOT NULL,
	"run_at" bigint NOT NULL,
	"locked_until" bigint,
	"owner" text,
	"last_error" text,
	"idempotency_key" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rule_versions" (
	"rule_id" text NOT NULL,
	"version" integer NOT NULL,
	"org_id" text NOT NULL,
	"body" text NOT NULL,
	"created_at" bigint NOT NULL,
	"created_by" text NOT NULL,
	CONSTRAINT "rule_versions_rule_id_version_pk" PRIMARY KEY("rule_id","version")
);
--> statement-breakpoint
CREATE TABLE "rules" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"current_version" integer NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"deleted_at" bigint
);
--> statement-breakpoint
CREATE TABLE "sources" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"name" text NOT NULL,
	"auth" text NOT NULL,
	"secret_sealed" text NOT NULL,
	"previous_secret_sealed" text,
	"previous_valid_until" bigint,
	"created_at" bigint NOT NULL,
	"rotated_at" bigint
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"org_id" text PRIMARY KEY NOT NULL,
	"org_name" text NOT NULL,
	"environment" text NOT NULL,
	"installed_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"requests_per_minute" integer DEFAULT 300 NOT NULL,
	"audit_retention_days" integer DEFAULT 90 NOT NULL,
	"max_attribute_value_length" integer DEFAULT 2000 NOT NULL,
	"ended_participants" text DEFAULT 'skip' NOT NULL,
	"grant_client_id" text NOT NULL,
	"grant_secret_sealed" text NOT NULL,
	"grant_managed" boolean DEFAULT false NOT NULL,
	"managed_role_id" text,
	"grant_status" text DEFAULT 'ok' NOT NULL,
	"grant_last_token_at" bigint,
	"grant_last_error" text,
	"grant_divisions" jsonb,
	"license_status" text DEFAULT 'licensed' NOT NULL,
	"license_checked_at" bigint
);
--> statement-breakpoint
CREATE INDEX "audit_org_id" ON "audit_log" USING btree ("org_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "audit_org_seq" ON "audit_log" USING btree ("org_id","seq");--> statement-breakpoint
CREATE INDEX "audit_org_kind" ON "audit_log" USING btree ("org_id","kind","id");--> statement-breakpoint
CREATE INDEX "audit_org_conversation" ON "audit_log" USING btree ("org_id","conversation_id","id");--> statement-breakpoint
CREATE INDEX "audit_org_event" ON "audit_log" USING btree ("org_id","event_id");--> statement-breakpoint
CREATE INDEX "attempts_event" ON "delivery_attempts" USING btree ("org_id","event_id");--> statement-breakpoint
CREATE INDEX "attempts_org_status" ON "delivery_attempts" USING btree ("org_id","status","at");--> statement-breakpoint
CREATE INDEX "events_org" ON "events" USING btree ("org_id","id");--> statement-breakpoint
CREATE INDEX "events_state" ON "events" USING btree ("state","id");--> statement-breakpoint
CREATE INDEX "ingest_keys_org" ON "ingest_keys" USING btree ("org_id");--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_idempotency" ON "jobs" USING btree ("kind","idempotency_key");--> statement-breakpoint
CREATE INDEX "jobs_ready" ON "jobs" USING btree ("status","run_at");--> statement-breakpoint
CREATE INDEX "jobs_lane" ON "jobs" USING btree ("lane","status","id");--> statement-breakpoint
CREATE INDEX "jobs_org" ON "jobs" USING btree ("org_id","status");--> statement-breakpoint
CREATE INDEX "rule_versions_org" ON "rule_versions" USING btree ("org_id");--> statement-breakpoint
CREATE INDEX "rules_org" ON "rules" USING btree ("org_id","id");--> statement-breakpoint
CREATE INDEX "sources_org" ON "sources" USING btree ("org_id","id");