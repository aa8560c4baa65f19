ALTER TABLE "contacts" ADD COLUMN "erased_at" timestamp with time zone;--> statement-breakpoint
-- The consent history is append-only for the runtime role (deploy/postgres/roles.sql). Erasing a
-- contact redacts its history through this function, which runs as the table's owner and only
-- for a contact already marked erased: the free-text source and the evidence go, each change
-- stays (channel, topic, statuses, when, via, made by, actor). It cannot fake or alter a
-- consent: it only blanks the rows of a contact that no longer exists for any purpose.
CREATE OR REPLACE FUNCTION nurture_erase_consent_history(p_contact uuid) RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  changed integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM contacts WHERE id = p_contact AND erased_at IS NOT NULL) THEN
    RAISE EXCEPTION 'contact % is not erased: its consent history stays as it is', p_contact USING ERRCODE = 'insufficient_privilege';
  END IF;
  UPDATE consent_history SET source = 'erased', before_source = CASE WHEN before_source IS NULL THEN NULL ELSE 'erased' END,
      evidence = '{}'::jsonb, reconsent = NULL
    WHERE contact_id = p_contact
      AND (source <> 'erased' OR coalesce(before_source, 'erased') <> 'erased' OR evidence <> '{}'::jsonb OR reconsent IS NOT NULL);
  GET DIAGNOSTICS changed = ROW_COUNT;
  RETURN changed;
END
$$;