CREATE TABLE "journey_reviews" (
	"run_id" uuid PRIMARY KEY NOT NULL,
	"journey_id" uuid NOT NULL,
	"journey_key" text NOT NULL,
	"process_key" text NOT NULL,
	"version" integer NOT NULL,
	"digest" text NOT NULL,
	"edited_by" text NOT NULL,
	"requested_by" text NOT NULL,
	"outcome" text DEFAULT 'pending' NOT NULL,
	"reason" text,
	"published_version" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decided_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "journeys" ADD COLUMN "draft_edited_by" text;--> statement-breakpoint
ALTER TABLE "journeys" ADD COLUMN "review_process" text;--> statement-breakpoint
ALTER TABLE "journey_reviews" ADD CONSTRAINT "journey_reviews_journey_id_journeys_id_fk" FOREIGN KEY ("journey_id") REFERENCES "public"."journeys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "journey_reviews_journey_idx" ON "journey_reviews" USING btree ("journey_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "journey_reviews_pending_key" ON "journey_reviews" USING btree ("journey_id","digest") WHERE outcome = 'pending';