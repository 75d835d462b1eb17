ALTER TABLE "org_budgets" ADD COLUMN "taken_at" bigint[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "org_budgets" DROP COLUMN "tokens";--> statement-breakpoint
ALTER TABLE "org_budgets" DROP COLUMN "at";--> statement-breakpoint
-- One call per take (src/delivery/budget-pg-store.ts): the org's row locked, the minute's takes
-- that aged out dropped, then this take added if it fits, else the org paused until enough have
-- aged out. A take counts for 62 s (BUDGET_WINDOW_MS in src/delivery/budget.ts: a margin for
-- calls that reach Genesys after they were taken). Returns 0 when taken, else when to try again.
CREATE OR REPLACE FUNCTION relay_budget_take(p_org text, p_per_minute int, p_now bigint, p_need int)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_paused bigint;
  v_log bigint[];
  v_len int;
BEGIN
  INSERT INTO org_budgets (org_id) VALUES (p_org) ON CONFLICT (org_id) DO NOTHING;
  SELECT paused_until, ARRAY(SELECT t FROM unnest(taken_at) t WHERE t > p_now - 62000 ORDER BY t)
    INTO v_paused, v_log FROM org_budgets WHERE org_id = p_org FOR UPDATE;
  IF v_paused > p_now THEN
    RETURN v_paused;
  END IF;
  v_len := cardinality(v_log);
  IF v_len + p_need <= p_per_minute THEN
    -- Times only move forward in the log, so it stays oldest first whatever an instance's clock says.
    UPDATE org_budgets
      SET taken_at = v_log || array_fill(greatest(p_now, coalesce(v_log[v_len], p_now)), ARRAY[p_need])
      WHERE org_id = p_org;
    RETURN 0;
  END IF;
  v_paused := v_log[v_len + p_need - p_per_minute] + 62000;
  UPDATE org_budgets SET taken_at = v_log, paused_until = v_paused WHERE org_id = p_org;
  RETURN v_paused;
END
$$;
