ALTER TABLE "tasks" ADD COLUMN "step_type" text DEFAULT 'approval' NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "accept_by" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "accepted_by" uuid;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "accepted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_accepted_by_users_id_fk" FOREIGN KEY ("accepted_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;