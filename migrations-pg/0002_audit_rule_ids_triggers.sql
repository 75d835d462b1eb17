-- audit_rule_ids follows audit_log, as the SQLite triggers of migrations/0013 do: one row per
-- (audit row, rule) it names, written and deleted with the audit row, never by the app.
CREATE FUNCTION audit_rule_ids_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') AND old.rule_ids IS NOT NULL AND old.rule_ids LIKE '[%' THEN
    DELETE FROM audit_rule_ids WHERE org_id = old.org_id AND audit_id = old.id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND new.rule_ids IS NOT NULL AND new.rule_ids LIKE '[%' THEN
    INSERT INTO audit_rule_ids (org_id, rule_id, audit_id)
      SELECT new.org_id, r.value, new.id FROM jsonb_array_elements(new.rule_ids::jsonb) e,
        LATERAL (SELECT e #>> '{}' AS value) r
      WHERE jsonb_typeof(e) = 'string'
      ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_rule_ids_sync AFTER INSERT OR DELETE OR UPDATE OF org_id, id, rule_ids ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_rule_ids_sync();
--> statement-breakpoint
INSERT INTO audit_rule_ids (org_id, rule_id, audit_id)
  SELECT a.org_id, e #>> '{}', a.id FROM audit_log a, jsonb_array_elements(a.rule_ids::jsonb) e
  WHERE a.rule_ids LIKE '[%' AND jsonb_typeof(e) = 'string'
  ON CONFLICT DO NOTHING;
