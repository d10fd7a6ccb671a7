-- Tenant walls: a row that names another account-owned row by id does so with its account too, as a composite
-- foreign key (account_id, customer_id) -> customers (account_id, id), so the database refuses an invoice or a
-- value that points at another account's customer. `ON DELETE SET NULL (column)` needs PostgreSQL 15.
DO $$
BEGIN
  IF current_setting('server_version_num')::int < 150000 THEN
    RAISE EXCEPTION 'sevsync migration 0006 needs PostgreSQL 15 or newer (this server is %)',
      current_setting('server_version');
  END IF;
END $$;--> statement-breakpoint
-- Existing rows must already keep to the wall: an invoice whose customer belongs to another account is a bug
-- to look at, never something to drop or re-point silently. The migration stops and names the rows.
DO $$
DECLARE
  n bigint;
  sample text;
BEGIN
  SELECT count(*) INTO n FROM invoices i JOIN customers c ON c.id = i.customer_id WHERE c.account_id <> i.account_id;
  IF n > 0 THEN
    SELECT string_agg(format('invoice %s (account %s) -> customer %s (account %s)', x.id, x.account_id,
        x.customer_id, x.customer_account), '; ' ORDER BY x.id)
      INTO sample
    FROM (
      SELECT i.id, i.account_id, i.customer_id, c.account_id AS customer_account
      FROM invoices i JOIN customers c ON c.id = i.customer_id
      WHERE c.account_id <> i.account_id ORDER BY i.id LIMIT 10
    ) x;
    RAISE EXCEPTION 'sevsync migration 0006: % invoice(s) point at a customer of another account; nothing was changed', n
      USING DETAIL = 'first ones: ' || sample,
        HINT = 'find them with: select i.id, i.account_id, i.customer_id, c.account_id from invoices i join customers c on c.id = i.customer_id where c.account_id <> i.account_id; unlink them (customer_id = null: the next syncs assign them to the right customer again) and run migrate again';
  END IF;
END $$;--> statement-breakpoint
CREATE UNIQUE INDEX "customers_account_id_uq" ON "customers" USING btree ("account_id","id");--> statement-breakpoint
ALTER TABLE "customer_values" ADD COLUMN "account_id" text;--> statement-breakpoint
UPDATE "customer_values" v SET "account_id" = c."account_id" FROM "customers" c WHERE c."id" = v."customer_id";--> statement-breakpoint
ALTER TABLE "customer_values" ALTER COLUMN "account_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "customer_values" DROP CONSTRAINT "customer_values_customer_id_customers_id_fk";--> statement-breakpoint
ALTER TABLE "invoices" DROP CONSTRAINT "invoices_customer_id_customers_id_fk";--> statement-breakpoint
ALTER TABLE "customer_values" ADD CONSTRAINT "customer_values_customer_fk" FOREIGN KEY ("account_id","customer_id") REFERENCES "public"."customers"("account_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Deleting a customer unlinks its invoices: only customer_id becomes null, account_id stays.
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_customer_fk" FOREIGN KEY ("account_id","customer_id") REFERENCES "public"."customers"("account_id","id") ON DELETE SET NULL ("customer_id") ON UPDATE no action;--> statement-breakpoint
-- A writer that does not name the account of a value (OneCockpit typing a `manual` value by customer id) gets
-- the customer's; the foreign key still refuses a named account that is not the customer's.
CREATE OR REPLACE FUNCTION sevsync_value_account() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  NEW.account_id := (SELECT c.account_id FROM customers c WHERE c.id = NEW.customer_id);
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER customer_values_account BEFORE INSERT ON customer_values
  FOR EACH ROW WHEN (NEW.account_id IS NULL) EXECUTE FUNCTION sevsync_value_account();--> statement-breakpoint
-- The change feed's triggers (migration 0003) join an invoice's customer by account and id.
CREATE OR REPLACE FUNCTION sevsync_invoices_inserted() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  acct text;
  n bigint;
  first bigint;
BEGIN
  FOR acct, n IN SELECT account_id, count(*) FROM new_rows r WHERE sevsync_shown(r) GROUP BY account_id LOOP
    first := sevsync_claim(acct, n);
    INSERT INTO events (account_id, seq, type, customer_id, data)
      SELECT acct, first + row_number() OVER (ORDER BY r.id) - 1, 'invoice.created', r.customer_id,
        sevsync_invoice_data(r, cu.email)
      FROM new_rows r LEFT JOIN customers cu ON cu.account_id = r.account_id AND cu.id = r.customer_id
      WHERE r.account_id = acct AND sevsync_shown(r);
  END LOOP;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION sevsync_invoices_updated() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE acct text;
BEGIN
  FOR acct IN SELECT DISTINCT account_id FROM new_rows LOOP
    PERFORM sevsync_emit(acct, (
      SELECT jsonb_agg(x.ev ORDER BY x.id) FROM (
        SELECT n.id, CASE
            WHEN NOT sevsync_shown(o) THEN jsonb_build_object('type', 'invoice.created',
              'customer_id', n.customer_id, 'data', nd)
            WHEN NOT sevsync_shown(n) THEN jsonb_build_object('type', 'invoice.removed',
              'customer_id', o.customer_id,
              'data', od || jsonb_build_object('reason', coalesce(n.removed_reason, 'cancelled')))
            ELSE jsonb_build_object('type', 'invoice.updated', 'customer_id', coalesce(n.customer_id, o.customer_id),
              'data', nd || jsonb_build_object('changes', sevsync_changes(od, nd)))
          END AS ev
        FROM new_rows n
        JOIN old_rows o ON o.id = n.id
        LEFT JOIN customers nc ON nc.account_id = n.account_id AND nc.id = n.customer_id
        LEFT JOIN customers oc ON oc.account_id = o.account_id AND oc.id = o.customer_id
        CROSS JOIN LATERAL (SELECT sevsync_invoice_data(n, nc.email) AS nd,
          sevsync_invoice_data(o, oc.email) AS od) d
        WHERE n.account_id = acct AND (sevsync_shown(o) OR sevsync_shown(n))
          AND (sevsync_shown(o) <> sevsync_shown(n) OR nd IS DISTINCT FROM od)) x));
  END LOOP;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION sevsync_invoices_deleted() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE acct text;
BEGIN
  FOR acct IN SELECT DISTINCT account_id FROM old_rows LOOP
    PERFORM sevsync_emit(acct, (
      SELECT jsonb_agg(jsonb_build_object('type', 'invoice.removed', 'customer_id', o.customer_id,
        'data', sevsync_invoice_data(o, oc.email) || jsonb_build_object('reason', 'purged')) ORDER BY o.id)
      FROM old_rows o LEFT JOIN customers oc ON oc.account_id = o.account_id AND oc.id = o.customer_id
      WHERE o.account_id = acct AND sevsync_shown(o)));
  END LOOP;
  RETURN NULL;
END $$;--> statement-breakpoint
-- ANALYZE needs the tables' owner (or, from PostgreSQL 17, the MAINTAIN privilege); the runtime role owns
-- nothing. This function runs it as its owner (the migrating role), for the tables the page writes grow only.
CREATE OR REPLACE FUNCTION sevsync_analyze(p_tables text[]) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  list text;
BEGIN
  SELECT string_agg(format('%I', t), ', ' ORDER BY t) INTO list
  FROM (SELECT unnest(p_tables) INTERSECT SELECT unnest(ARRAY['invoices', 'invoice_issues', 'source_contacts',
    'customers', 'customer_values', 'events'])) s(t);
  IF list IS NOT NULL THEN
    EXECUTE 'ANALYZE ' || list;
  END IF;
END $$;--> statement-breakpoint
REVOKE ALL ON FUNCTION sevsync_analyze(text[]) FROM PUBLIC;
