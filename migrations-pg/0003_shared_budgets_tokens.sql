CREATE TABLE "org_budgets" (
	"org_id" text PRIMARY KEY NOT NULL,
	"tokens" double precision NOT NULL,
	"at" bigint NOT NULL,
	"paused_until" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "org_tokens" (
	"org_id" text PRIMARY KEY NOT NULL,
	"token_sealed" text NOT NULL,
	"token_hash" text NOT NULL,
	"environment" text NOT NULL,
	"refresh_at" bigint NOT NULL,
	"use_until" bigint NOT NULL
);
