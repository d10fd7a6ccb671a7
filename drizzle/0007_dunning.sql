CREATE TABLE "invoice_reminders" (
	"account_id" text NOT NULL,
	"source" text NOT NULL,
	"source_id" text NOT NULL,
	"origin_source_id" text NOT NULL,
	"dunning_level" integer,
	"reminder_date" date NOT NULL,
	"source_update" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "invoice_reminders_account_id_source_source_id_pk" PRIMARY KEY("account_id","source","source_id")
);
--> statement-breakpoint
ALTER TABLE "invoices" ADD COLUMN "dunning_level" integer;--> statement-breakpoint
ALTER TABLE "invoices" ADD COLUMN "dunnings" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "invoice_reminders" ADD CONSTRAINT "invoice_reminders_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "invoice_reminders_origin_idx" ON "invoice_reminders" USING btree ("account_id","source","origin_source_id");--> statement-breakpoint
-- The change feed's invoice data (migration 0003) carries the reminders too, and sevDesk's invoice type (the
-- link into sevDesk is built from it): a reminder arriving updates its invoice's `dunnings`, which the
-- update trigger turns into invoice.updated. Whether an invoice is overdue depends on the day it is read:
-- it is derived by the reader, never stored or sent.
CREATE OR REPLACE FUNCTION sevsync_invoice_data(i invoices, customer_email text) RETURNS jsonb
  LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('sourceId', i.source_id, 'number', i.number, 'date', i.invoice_date,
    'dueDate', i.due_date, 'status', i.status, 'amount', i.amount::numeric(14,2)::text,
    'paidAmount', i.paid_amount::numeric(14,2)::text, 'currency', i.currency, 'source', i.source,
    'foreignAmount', i.foreign_amount::numeric(14,2)::text, 'foreignCurrency', i.foreign_currency,
    'invoiceType', i.type, 'dunningLevel', i.dunning_level, 'dunnings', i.dunnings,
    'customer', customer_email)
$$;
