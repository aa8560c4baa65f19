CREATE TABLE "result_counters" (
	"journey_key" text NOT NULL,
	"journey_version" integer NOT NULL,
	"step_id" text NOT NULL,
	"metric" text NOT NULL,
	"label" text NOT NULL,
	"n" bigint NOT NULL,
	CONSTRAINT "result_counters_journey_key_journey_version_step_id_metric_label_pk" PRIMARY KEY("journey_key","journey_version","step_id","metric","label")
);
--> statement-breakpoint
CREATE TABLE "result_passes" (
	"enrolment_id" uuid NOT NULL,
	"step_id" text NOT NULL,
	"journey_key" text NOT NULL,
	"journey_version" integer NOT NULL,
	"entered" boolean DEFAULT false NOT NULL,
	"went_on" boolean DEFAULT false NOT NULL,
	"opened" boolean DEFAULT false NOT NULL,
	"clicked" boolean DEFAULT false NOT NULL,
	"variant" text,
	CONSTRAINT "result_passes_enrolment_id_step_id_pk" PRIMARY KEY("enrolment_id","step_id")
);
--> statement-breakpoint
-- Journey results, kept incrementally: every audit record a journey writes adds to the counters
-- in its own transaction. An audit record is appended once (its idempotency key), so each is
-- counted once; test-run records are left out. results_deltas reads at most the enrolment's
-- previous step record (by audit_records_enrolment_idx) and its own pass rows, and says what the
-- record adds to which counters; the statement's records are added up and written once per
-- counter and statement (a counter row updated once per record of a bulk insert, inside one
-- transaction, would leave a chain of row versions each later update walks).
CREATE OR REPLACE FUNCTION results_deltas(r audit_records)
  RETURNS TABLE (step_id text, metric text, label text, delta bigint) LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  steps text[] := '{}';
  metrics text[] := '{}';
  labels text[] := '{}';
  deltas bigint[] := '{}';
  prev text;
  status text;
  changed integer;
BEGIN
  IF r.test OR r.journey_key IS NULL OR r.journey_version IS NULL THEN RETURN; END IF;
  IF r.action = 'enrolment.started' THEN
    steps := steps || ''::text; metrics := metrics || 'started'::text; labels := labels || ''::text; deltas := deltas || 1::bigint;
  ELSIF r.enrolment_id IS NULL THEN
    RETURN;
  ELSIF r.action IN ('email.opened', 'email.clicked') THEN
    -- Once per enrolment and step, whichever of the step's record and this one comes first.
    IF r.step_id IS NULL THEN RETURN; END IF;
    IF r.action = 'email.opened' THEN
      INSERT INTO result_passes AS p (enrolment_id, step_id, journey_key, journey_version, opened)
      VALUES (r.enrolment_id, r.step_id, r.journey_key, r.journey_version, true)
      ON CONFLICT (enrolment_id, step_id) DO UPDATE SET opened = true WHERE NOT p.opened;
    ELSE
      INSERT INTO result_passes AS p (enrolment_id, step_id, journey_key, journey_version, clicked)
      VALUES (r.enrolment_id, r.step_id, r.journey_key, r.journey_version, true)
      ON CONFLICT (enrolment_id, step_id) DO UPDATE SET clicked = true WHERE NOT p.clicked;
    END IF;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed = 0 THEN RETURN; END IF;
    steps := steps || r.step_id; metrics := metrics || substr(r.action, 7); labels := labels || ''::text; deltas := deltas || 1::bigint;
  ELSE
    -- The step the enrolment was at before this record: its latest step record (engagement aside).
    SELECT a.step_id INTO prev FROM audit_records a
    WHERE a.enrolment_id = r.enrolment_id AND a.id < r.id AND a.step_id IS NOT NULL AND a.action NOT IN ('email.opened', 'email.clicked')
    ORDER BY a.id DESC LIMIT 1;
    IF r.action IN ('enrolment.completed', 'enrolment.converted', 'enrolment.exited', 'enrolment.cancelled', 'enrolment.failed') THEN
      status := substr(r.action, 11);
      steps := steps || coalesce(prev, ''); metrics := metrics || 'ended'::text; labels := labels || status; deltas := deltas || 1::bigint;
      IF prev IS NOT NULL THEN
        steps := steps || prev; metrics := metrics || 'at'::text; labels := labels || ''::text; deltas := deltas || (-1)::bigint;
      END IF;
      IF status = 'exited' THEN
        steps := steps || coalesce(prev, ''); metrics := metrics || 'exited'::text; labels := labels || coalesce(r.details->>'reason', 'unknown'); deltas := deltas || 1::bigint;
      ELSIF status = 'completed' AND prev IS NOT NULL THEN
        -- The journey ended after its last step: the enrolment went on from it.
        UPDATE result_passes SET went_on = true WHERE enrolment_id = r.enrolment_id AND step_id = prev AND NOT went_on;
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed > 0 THEN steps := steps || prev; metrics := metrics || 'completed'::text; labels := labels || ''::text; deltas := deltas || 1::bigint; END IF;
      ELSIF status = 'converted' THEN
        -- Every step the enrolment passed converted afterwards, and so did its variants.
        SELECT steps || coalesce(array_agg(p.step_id), '{}'), metrics || coalesce(array_agg('converted_after'::text), '{}'),
               labels || coalesce(array_agg(''::text), '{}'), deltas || coalesce(array_agg(1::bigint), '{}')
        INTO steps, metrics, labels, deltas FROM result_passes p WHERE p.enrolment_id = r.enrolment_id AND p.entered;
        SELECT steps || coalesce(array_agg(p.step_id), '{}'), metrics || coalesce(array_agg('variant_converted'::text), '{}'),
               labels || coalesce(array_agg(p.variant), '{}'), deltas || coalesce(array_agg(1::bigint), '{}')
        INTO steps, metrics, labels, deltas FROM result_passes p WHERE p.enrolment_id = r.enrolment_id AND p.variant IS NOT NULL;
      END IF;
    ELSIF r.step_id IS NOT NULL THEN
      IF prev IS DISTINCT FROM r.step_id THEN
        IF prev IS NOT NULL THEN
          UPDATE result_passes SET went_on = true WHERE enrolment_id = r.enrolment_id AND step_id = prev AND NOT went_on;
          GET DIAGNOSTICS changed = ROW_COUNT;
          IF changed > 0 THEN steps := steps || prev; metrics := metrics || 'completed'::text; labels := labels || ''::text; deltas := deltas || 1::bigint; END IF;
          steps := steps || prev; metrics := metrics || 'at'::text; labels := labels || ''::text; deltas := deltas || (-1)::bigint;
        END IF;
        steps := steps || r.step_id; metrics := metrics || 'at'::text; labels := labels || ''::text; deltas := deltas || 1::bigint;
      END IF;
      INSERT INTO result_passes AS p (enrolment_id, step_id, journey_key, journey_version, entered)
      VALUES (r.enrolment_id, r.step_id, r.journey_key, r.journey_version, true)
      ON CONFLICT (enrolment_id, step_id) DO UPDATE SET entered = true WHERE NOT p.entered;
      GET DIAGNOSTICS changed = ROW_COUNT;
      IF changed > 0 THEN steps := steps || r.step_id; metrics := metrics || 'entered'::text; labels := labels || ''::text; deltas := deltas || 1::bigint; END IF;
      IF r.action IN ('email.sent', 'email.captured') THEN
        steps := steps || r.step_id; metrics := metrics || 'email_sent'::text; labels := labels || ''::text; deltas := deltas || 1::bigint;
      ELSIF r.action IN ('email.skipped', 'email.unknown') THEN
        steps := steps || r.step_id; metrics := metrics || replace(r.action, '.', '_'); labels := labels || coalesce(r.details->>'reason', 'unknown'); deltas := deltas || 1::bigint;
      ELSIF r.action = 'split.assigned' THEN
        UPDATE result_passes SET variant = r.outcome WHERE enrolment_id = r.enrolment_id AND step_id = r.step_id AND variant IS NULL;
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed > 0 THEN steps := steps || r.step_id; metrics := metrics || 'variant'::text; labels := labels || r.outcome; deltas := deltas || 1::bigint; END IF;
      END IF;
    END IF;
  END IF;
  RETURN QUERY SELECT * FROM unnest(steps, metrics, labels, deltas);
END
$$;--> statement-breakpoint
-- The records of a statement in the order they went in (results_deltas is volatile: each call
-- sees the pass rows the calls before it wrote), added up per counter, written in a fixed key
-- order: concurrent appends lock shared counters in the same order, so they wait for one another
-- but never deadlock.
CREATE OR REPLACE FUNCTION audit_records_count_results() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO result_counters AS c (journey_key, journey_version, step_id, metric, label, n)
  SELECT (s.a).journey_key, (s.a).journey_version, d.step_id, d.metric, d.label, sum(d.delta)
  FROM (SELECT ROW(a.*)::audit_records AS a FROM new_records a WHERE NOT a.test AND a.journey_key IS NOT NULL ORDER BY a.id) s
  CROSS JOIN LATERAL results_deltas(s.a) d
  GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (journey_key, journey_version, step_id, metric, label) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER audit_records_results AFTER INSERT ON audit_records REFERENCING NEW TABLE AS new_records
  FOR EACH STATEMENT EXECUTE FUNCTION audit_records_count_results();--> statement-breakpoint
-- Adds the records already in audit_records (of one journey, or all) to the counters, in the
-- order they were appended, 50,000 at a time: the backfill below, and an operator's recount after
-- deleting a journey's counters and passes (docs/operations.md).
CREATE OR REPLACE FUNCTION results_backfill(journey text DEFAULT NULL) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  done bigint := 0;
  last bigint;
BEGIN
  SELECT coalesce(max(id), 0) INTO last FROM audit_records;
  WHILE done < last LOOP
    INSERT INTO result_counters AS c (journey_key, journey_version, step_id, metric, label, n)
    SELECT (s.a).journey_key, (s.a).journey_version, d.step_id, d.metric, d.label, sum(d.delta)
    FROM (SELECT a FROM audit_records a WHERE a.id > done AND a.id <= done + 50000 AND NOT a.test AND a.journey_key IS NOT NULL
            AND (journey IS NULL OR a.journey_key = journey) ORDER BY a.id) s
    CROSS JOIN LATERAL results_deltas(s.a) d
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (journey_key, journey_version, step_id, metric, label) DO UPDATE SET n = c.n + excluded.n;
    done := done + 50000;
  END LOOP;
END
$$;--> statement-breakpoint
SELECT results_backfill();
