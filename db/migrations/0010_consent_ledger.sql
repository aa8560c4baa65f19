CREATE TABLE "consent_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"contact_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"topic" text NOT NULL,
	"previous_id" bigint,
	"before_status" text,
	"before_source" text,
	"status" text NOT NULL,
	"source" text NOT NULL,
	"made_by" text NOT NULL,
	"via" text NOT NULL,
	"actor" text NOT NULL,
	"evidence" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"reconsent" jsonb,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "contact_consents" ADD COLUMN "history_id" bigint;--> statement-breakpoint
ALTER TABLE "consent_history" ADD CONSTRAINT "consent_history_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "consent_history_contact_idx" ON "consent_history" USING btree ("contact_id","id");--> statement-breakpoint
-- Consents recorded before the ledger each get a history row (via backfill, source and time as
-- they were), so every current consent points at its record.
INSERT INTO "consent_history" ("contact_id", "channel", "topic", "status", "source", "made_by", "via", "actor", "evidence", "at")
  SELECT "contact_id", "channel", "topic", "status", "source", 'contact', 'backfill', 'system',
    '{"note": "recorded before the consent history: no evidence was kept"}'::jsonb, "at"
  FROM "contact_consents" ORDER BY "at";--> statement-breakpoint
UPDATE "contact_consents" c SET "history_id" = h."id" FROM "consent_history" h
  WHERE h."via" = 'backfill' AND h."contact_id" = c."contact_id" AND h."channel" = c."channel" AND h."topic" = c."topic";
