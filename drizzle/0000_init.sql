CREATE TABLE "accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"base_currency" text DEFAULT 'EUR' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "customer_values" (
	"customer_id" bigint NOT NULL,
	"kind" text NOT NULL,
	"amount" numeric(14, 2) NOT NULL,
	"currency" text DEFAULT 'EUR' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_values_customer_id_kind_pk" PRIMARY KEY("customer_id","kind")
);
--> statement-breakpoint
CREATE TABLE "customers" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"email" text NOT NULL,
	"company" text,
	"title" text,
	"first_name" text,
	"last_name" text,
	"street" text,
	"zip" text,
	"city" text,
	"country" text,
	"phone" text,
	"total_value" numeric(14, 2) DEFAULT '0' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "import_checkpoints" (
	"account_id" text NOT NULL,
	"import_id" text NOT NULL,
	"kind" text DEFAULT 'import' NOT NULL,
	"state" text DEFAULT 'running' NOT NULL,
	"next_offset" integer DEFAULT 0 NOT NULL,
	"pages" integer DEFAULT 0 NOT NULL,
	"done" integer DEFAULT 0 NOT NULL,
	"total" integer,
	"max_update" bigint,
	"dry_run" boolean DEFAULT false NOT NULL,
	"stats" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "import_checkpoints_account_id_import_id_pk" PRIMARY KEY("account_id","import_id")
);
--> statement-breakpoint
CREATE TABLE "interfaces" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"provider" text DEFAULT 'sevdesk' NOT NULL,
	"token_ciphertext" text NOT NULL,
	"token_key_id" text NOT NULL,
	"base_url" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"settings" jsonb NOT NULL,
	"state" text DEFAULT 'idle' NOT NULL,
	"last_error" jsonb,
	"invoice_cursor" bigint,
	"contact_cursor" bigint,
	"last_synced_at" timestamp with time zone,
	"next_sync_at" timestamp with time zone,
	"last_reconciled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "invoice_issues" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"source" text NOT NULL,
	"source_id" text NOT NULL,
	"invoice_number" text,
	"kind" text NOT NULL,
	"reason" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "invoices" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"customer_id" bigint,
	"source" text NOT NULL,
	"source_id" text NOT NULL,
	"contact_source_id" text,
	"origin_source_id" text,
	"number" text,
	"type" text NOT NULL,
	"invoice_date" date,
	"due_date" date,
	"source_status" text NOT NULL,
	"status" text NOT NULL,
	"amount_gross" numeric(14, 2) NOT NULL,
	"amount_net" numeric(14, 2) NOT NULL,
	"amount" numeric(14, 2) NOT NULL,
	"paid_amount" numeric(14, 2) NOT NULL,
	"currency" text NOT NULL,
	"foreign_amount" numeric(14, 2),
	"foreign_currency" text,
	"source_update" timestamp with time zone,
	"content_hash" text NOT NULL,
	"removed_at" timestamp with time zone,
	"removed_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "source_contacts" (
	"account_id" text NOT NULL,
	"source" text NOT NULL,
	"source_id" text NOT NULL,
	"email" text,
	"company" text,
	"title" text,
	"first_name" text,
	"last_name" text,
	"street" text,
	"zip" text,
	"city" text,
	"country" text,
	"phone" text,
	"source_update" timestamp with time zone,
	"fetched_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "source_contacts_account_id_source_source_id_pk" PRIMARY KEY("account_id","source","source_id")
);
--> statement-breakpoint
CREATE TABLE "sync_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"kind" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"pages" integer DEFAULT 0 NOT NULL,
	"fetched" integer DEFAULT 0 NOT NULL,
	"written" integer DEFAULT 0 NOT NULL,
	"unassigned" integer DEFAULT 0 NOT NULL,
	"invalid" integer DEFAULT 0 NOT NULL,
	"error" jsonb
);
--> statement-breakpoint
CREATE TABLE "walk_seen" (
	"account_id" text NOT NULL,
	"walk_id" text NOT NULL,
	"source_id" text NOT NULL,
	CONSTRAINT "walk_seen_account_id_walk_id_source_id_pk" PRIMARY KEY("account_id","walk_id","source_id")
);
--> statement-breakpoint
ALTER TABLE "customer_values" ADD CONSTRAINT "customer_values_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customers" ADD CONSTRAINT "customers_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "import_checkpoints" ADD CONSTRAINT "import_checkpoints_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "interfaces" ADD CONSTRAINT "interfaces_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invoice_issues" ADD CONSTRAINT "invoice_issues_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "source_contacts" ADD CONSTRAINT "source_contacts_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD CONSTRAINT "sync_runs_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "walk_seen" ADD CONSTRAINT "walk_seen_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "customers_account_email_uq" ON "customers" USING btree ("account_id","email");--> statement-breakpoint
CREATE UNIQUE INDEX "interfaces_account_provider_uq" ON "interfaces" USING btree ("account_id","provider");--> statement-breakpoint
CREATE UNIQUE INDEX "invoice_issues_uq" ON "invoice_issues" USING btree ("account_id","source","source_id","kind");--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_account_source_sid_uq" ON "invoices" USING btree ("account_id","source","source_id");--> statement-breakpoint
CREATE INDEX "invoices_customer_idx" ON "invoices" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "invoices_account_number_idx" ON "invoices" USING btree ("account_id","number");--> statement-breakpoint
CREATE INDEX "invoices_account_contact_idx" ON "invoices" USING btree ("account_id","source","contact_source_id");--> statement-breakpoint
CREATE INDEX "invoices_origin_idx" ON "invoices" USING btree ("account_id","source","origin_source_id") WHERE "invoices"."origin_source_id" is not null;--> statement-breakpoint
CREATE INDEX "sync_runs_account_idx" ON "sync_runs" USING btree ("account_id","started_at");