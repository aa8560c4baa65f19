ALTER TABLE "processes" ADD COLUMN "start_event" text;--> statement-breakpoint
CREATE INDEX "processes_start_event_idx" ON "processes" USING btree ("start_event");