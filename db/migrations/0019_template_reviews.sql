CREATE TABLE "template_review_policies" (
	"key" text PRIMARY KEY NOT NULL,
	"review_process" text NOT NULL,
	"set_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "email_templates" ADD COLUMN "status" text DEFAULT 'approved' NOT NULL;--> statement-breakpoint
ALTER TABLE "email_templates" ADD COLUMN "saved_by" text;--> statement-breakpoint
ALTER TABLE "email_templates" ADD COLUMN "review_process" text;--> statement-breakpoint
ALTER TABLE "email_templates" ADD COLUMN "review_run_id" uuid;--> statement-breakpoint
ALTER TABLE "email_templates" ADD COLUMN "decided_at" timestamp with time zone;