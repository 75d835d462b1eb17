CREATE TABLE "audit_rule_ids" (
	"org_id" text NOT NULL,
	"rule_id" text NOT NULL,
	"audit_id" text NOT NULL,
	CONSTRAINT "audit_rule_ids_org_id_rule_id_audit_id_pk" PRIMARY KEY("org_id","rule_id","audit_id")
);
--> statement-breakpoint
CREATE INDEX "audit_org_outcome" ON "audit_log" USING btree ("org_id","outcome","id");--> statement-breakpoint
CREATE INDEX "audit_org_source" ON "audit_log" USING btree ("org_id","source_id","id");