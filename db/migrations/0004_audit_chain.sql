ALTER TABLE "audit_records" ADD COLUMN "consent_state" text;--> statement-breakpoint
ALTER TABLE "audit_records" ADD COLUMN "template_version" text;--> statement-breakpoint
ALTER TABLE "audit_records" ADD COLUMN "test" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "audit_records" ADD COLUMN "chain" text;--> statement-breakpoint
ALTER TABLE "audit_records" ADD COLUMN "seq" integer;--> statement-breakpoint
ALTER TABLE "audit_records" ADD COLUMN "prev_hash" text;--> statement-breakpoint
ALTER TABLE "audit_records" ADD COLUMN "hash" text;--> statement-breakpoint
CREATE UNIQUE INDEX "audit_records_chain_seq_key" ON "audit_records" USING btree ("chain","seq");