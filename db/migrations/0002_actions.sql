CREATE TABLE "contact_consents" (
	"contact_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"topic" text NOT NULL,
	"status" text NOT NULL,
	"source" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "contact_consents_contact_id_channel_topic_pk" PRIMARY KEY("contact_id","channel","topic")
);
--> statement-breakpoint
CREATE TABLE "email_templates" (
	"key" text NOT NULL,
	"version" integer NOT NULL,
	"subject" text NOT NULL,
	"text" text NOT NULL,
	"html" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "email_templates_key_version_pk" PRIMARY KEY("key","version")
);
--> statement-breakpoint
CREATE TABLE "owner_pools" (
	"key" text PRIMARY KEY NOT NULL,
	"next_index" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "suppressions" (
	"email" text PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"source" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"idempotency_key" text PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"status" text NOT NULL,
	"response_status" integer,
	"attempts" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
DROP INDEX "outgoing_emails_contact_idx";--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "company" text;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "title" text;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "phone" text;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "locale" text;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "owner" text;--> statement-breakpoint
ALTER TABLE "outgoing_emails" ADD COLUMN "category" text DEFAULT 'marketing' NOT NULL;--> statement-breakpoint
ALTER TABLE "outgoing_emails" ADD COLUMN "skip_reason" text;--> statement-breakpoint
ALTER TABLE "outgoing_emails" ADD COLUMN "consent_state" text;--> statement-breakpoint
ALTER TABLE "outgoing_emails" ADD COLUMN "template_key" text;--> statement-breakpoint
ALTER TABLE "outgoing_emails" ADD COLUMN "template_version" integer;--> statement-breakpoint
ALTER TABLE "contact_consents" ADD CONSTRAINT "contact_consents_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "outgoing_emails_contact_idx" ON "outgoing_emails" USING btree ("contact_id","sent_at");