CREATE TABLE "event_retention" (
	"id" integer PRIMARY KEY NOT NULL,
	"pruned_xid" "xid8" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "event_seqs" (
	"account_id" text PRIMARY KEY NOT NULL,
	"last_seq" bigint DEFAULT 0 NOT NULL,
	"last_xid" "xid8",
	"pruned_through" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"account_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"type" text NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"customer_id" bigint,
	"data" jsonb NOT NULL,
	CONSTRAINT "events_account_id_seq_pk" PRIMARY KEY("account_id","seq")
);
--> statement-breakpoint
ALTER TABLE "import_checkpoints" ADD COLUMN "values_events_from" bigint;--> statement-breakpoint
CREATE INDEX "events_global_idx" ON "events" USING btree ("xid","account_id","seq");--> statement-breakpoint
CREATE INDEX "events_customer_idx" ON "events" USING btree ("account_id","customer_id","seq") WHERE "events"."type" = 'customer.values_changed';--> statement-breakpoint
-- Retention removes old events in batches by age; a BRIN index finds them without a scan of the table.
CREATE INDEX "events_occurred_brin" ON "events" USING brin ("occurred_at");--> statement-breakpoint
-- Claims `n` seqs of an account and returns the first. The seqs continue the account's without a gap: the
-- counter row is updated in this transaction and stays locked until it ends, so a concurrent writer of the
-- same account waits and takes the seqs after these, once these are committed. The global feed orders by
-- transaction id: a writer whose transaction id is older than the account's last writer's would be served
-- before events it follows, so it is refused as a serialization failure and retried (writers take the
-- account's lock before anything else, so this stays the exception).
CREATE OR REPLACE FUNCTION sevsync_claim(p_account text, n bigint) RETURNS bigint
  LANGUAGE plpgsql AS $$
DECLARE
  cur xid8 := pg_current_xact_id();
  last bigint;
BEGIN
  INSERT INTO event_seqs AS s (account_id, last_seq, last_xid) VALUES (p_account, n, cur)
    ON CONFLICT (account_id) DO UPDATE SET last_seq = s.last_seq + n, last_xid = cur
    WHERE s.last_xid IS NULL OR s.last_xid <= cur
    RETURNING s.last_seq INTO last;
  IF last IS NULL THEN
    RAISE EXCEPTION 'events of account % would be served out of order: retry the transaction', p_account
      USING ERRCODE = '40001';
  END IF;
  PERFORM pg_notify('sevsync_events', p_account);
  RETURN last - n + 1;
END $$;--> statement-breakpoint
-- Appends events of one account, in the order given ([{type, customer_id, data}, ...]).
CREATE OR REPLACE FUNCTION sevsync_emit(p_account text, p_events jsonb) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  n integer := coalesce(jsonb_array_length(p_events), 0);
  first bigint;
BEGIN
  IF n = 0 THEN RETURN; END IF;
  first := sevsync_claim(p_account, n);
  INSERT INTO events (account_id, seq, type, customer_id, data)
    SELECT p_account, first + e.ord - 1, e.value->>'type', (e.value->>'customer_id')::bigint, e.value->'data'
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, ord);
END $$;--> statement-breakpoint
-- An invoice as `customers --json` shows it, plus its sevDesk id and its customer's e-mail (null while
-- unassigned).
CREATE OR REPLACE FUNCTION sevsync_invoice_data(i invoices, customer_email text) RETURNS jsonb
  LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('sourceId', i.source_id, 'number', i.number, 'date', i.invoice_date,
    'dueDate', i.due_date, 'status', i.status, 'amount', i.amount::numeric(14,2)::text,
    'paidAmount', i.paid_amount::numeric(14,2)::text, 'currency', i.currency, 'source', i.source,
    'foreignAmount', i.foreign_amount::numeric(14,2)::text, 'foreignCurrency', i.foreign_currency,
    'customer', customer_email)
$$;--> statement-breakpoint
-- Shown in OneCockpit: not removed and not an SR (the same rule as the application's `shown`).
CREATE OR REPLACE FUNCTION sevsync_shown(i invoices) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS $$ SELECT i.removed_at IS NULL AND i.type <> 'SR' $$;--> statement-breakpoint
-- The fields of `after` that differ from `before`, as {field: [before, after]}.
CREATE OR REPLACE FUNCTION sevsync_changes(before jsonb, after jsonb) RETURNS jsonb
  LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_object_agg(k, jsonb_build_array(before->k, after->k)), '{}'::jsonb)
  FROM jsonb_object_keys(after) AS k WHERE before->k IS DISTINCT FROM after->k
$$;--> statement-breakpoint
-- A bulk import's page inserts up to 1,000 invoices in one statement: their events are inserted in one
-- statement too, straight from the transition table.
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
      FROM new_rows r LEFT JOIN customers cu ON cu.id = r.customer_id
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
        LEFT JOIN customers nc ON nc.id = n.customer_id
        LEFT JOIN customers oc ON oc.id = o.customer_id
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
      FROM old_rows o LEFT JOIN customers oc ON oc.id = o.customer_id
      WHERE o.account_id = acct AND sevsync_shown(o)));
  END LOOP;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER invoices_events_insert AFTER INSERT ON invoices REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION sevsync_invoices_inserted();--> statement-breakpoint
CREATE TRIGGER invoices_events_update AFTER UPDATE ON invoices REFERENCING OLD TABLE AS old_rows
  NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sevsync_invoices_updated();--> statement-breakpoint
CREATE TRIGGER invoices_events_delete AFTER DELETE ON invoices REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION sevsync_invoices_deleted();--> statement-breakpoint
-- A customer's ten fields (its values are reported by customer.values_changed).
CREATE OR REPLACE FUNCTION sevsync_customer_fields(c customers) RETURNS jsonb
  LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('email', c.email, 'company', c.company, 'title', c.title,
    'firstName', c.first_name, 'lastName', c.last_name, 'street', c.street, 'zip', c.zip, 'city', c.city,
    'country', c.country, 'phone', c.phone)
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION sevsync_customers_inserted() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE acct text;
BEGIN
  FOR acct IN SELECT DISTINCT account_id FROM new_rows LOOP
    PERFORM sevsync_emit(acct, (
      SELECT jsonb_agg(jsonb_build_object('type', 'customer.created', 'customer_id', r.id,
        'data', sevsync_customer_fields(r) || jsonb_build_object(
          'values', jsonb_build_object('invoices', '0.00', 'total', r.total_value::numeric(14,2)::text),
          'currency', a.base_currency)) ORDER BY r.id)
      FROM new_rows r JOIN accounts a ON a.id = r.account_id
      WHERE r.account_id = acct));
  END LOOP;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION sevsync_customers_updated() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE acct text;
BEGIN
  FOR acct IN SELECT DISTINCT account_id FROM new_rows LOOP
    PERFORM sevsync_emit(acct, (
      SELECT jsonb_agg(jsonb_build_object('type', 'customer.updated', 'customer_id', n.id,
        'data', sevsync_customer_fields(n) || jsonb_build_object('changes',
          sevsync_changes(sevsync_customer_fields(o), sevsync_customer_fields(n)))) ORDER BY n.id)
      FROM new_rows n JOIN old_rows o ON o.id = n.id
      WHERE n.account_id = acct AND sevsync_customer_fields(n) IS DISTINCT FROM sevsync_customer_fields(o)));
  END LOOP;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER customers_events_insert AFTER INSERT ON customers REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION sevsync_customers_inserted();--> statement-breakpoint
CREATE TRIGGER customers_events_update AFTER UPDATE ON customers REFERENCING OLD TABLE AS old_rows
  NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sevsync_customers_updated();--> statement-breakpoint
-- Issues: opened when first recorded or when their cause comes back, resolved when it is gone. A changed
-- reason of an open issue is not a new event.
CREATE OR REPLACE FUNCTION sevsync_issue_data(x invoice_issues) RETURNS jsonb
  LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('kind', x.kind, 'invoiceNumber', x.invoice_number, 'sourceId', x.source_id,
    'source', x.source, 'reason', x.reason)
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION sevsync_issues_changed() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE acct text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    FOR acct IN SELECT DISTINCT account_id FROM new_rows LOOP
      PERFORM sevsync_emit(acct, (
        SELECT jsonb_agg(jsonb_build_object('type', 'issue.opened', 'data', sevsync_issue_data(n)) ORDER BY n.id)
        FROM new_rows n WHERE n.account_id = acct AND n.resolved_at IS NULL));
    END LOOP;
  ELSIF TG_OP = 'UPDATE' THEN
    FOR acct IN SELECT DISTINCT account_id FROM new_rows LOOP
      PERFORM sevsync_emit(acct, (
        SELECT jsonb_agg(jsonb_build_object('type',
            CASE WHEN n.resolved_at IS NULL THEN 'issue.opened' ELSE 'issue.resolved' END,
            'data', sevsync_issue_data(n)) ORDER BY n.id)
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.account_id = acct AND (n.resolved_at IS NULL) <> (o.resolved_at IS NULL)));
    END LOOP;
  ELSE
    FOR acct IN SELECT DISTINCT account_id FROM old_rows LOOP
      PERFORM sevsync_emit(acct, (
        SELECT jsonb_agg(jsonb_build_object('type', 'issue.resolved',
            'data', sevsync_issue_data(o) || jsonb_build_object('reason', 'purged')) ORDER BY o.id)
        FROM old_rows o WHERE o.account_id = acct AND o.resolved_at IS NULL));
    END LOOP;
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER invoice_issues_events_insert AFTER INSERT ON invoice_issues REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION sevsync_issues_changed();--> statement-breakpoint
CREATE TRIGGER invoice_issues_events_update AFTER UPDATE ON invoice_issues REFERENCING OLD TABLE AS old_rows
  NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sevsync_issues_changed();--> statement-breakpoint
CREATE TRIGGER invoice_issues_events_delete AFTER DELETE ON invoice_issues REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION sevsync_issues_changed();--> statement-breakpoint
-- The interface's state as OneCockpit tells it: active (idle or syncing), paused, error; null = no interface.
CREATE OR REPLACE FUNCTION sevsync_interface_state(f interfaces) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN f IS NULL THEN NULL WHEN NOT f.active THEN 'paused' WHEN f.state = 'error' THEN 'error'
    ELSE 'active' END
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION sevsync_interface_changed() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  was text := CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE sevsync_interface_state(OLD) END;
  now_ text := CASE WHEN TG_OP = 'DELETE' THEN 'removed' ELSE sevsync_interface_state(NEW) END;
  err jsonb := CASE WHEN TG_OP <> 'DELETE' AND now_ = 'error' THEN NEW.last_error END;
  old_err jsonb := CASE WHEN TG_OP <> 'INSERT' AND was = 'error' THEN OLD.last_error END;
  acct text := CASE WHEN TG_OP = 'DELETE' THEN OLD.account_id ELSE NEW.account_id END;
BEGIN
  IF was IS DISTINCT FROM now_ OR (err->>'type') IS DISTINCT FROM (old_err->>'type') THEN
    PERFORM sevsync_emit(acct, jsonb_build_array(jsonb_build_object('type', 'interface.state_changed',
      'data', jsonb_build_object('from', was, 'to', now_, 'error', err))));
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER interfaces_events AFTER INSERT OR UPDATE OR DELETE ON interfaces
  FOR EACH ROW EXECUTE FUNCTION sevsync_interface_changed();--> statement-breakpoint
CREATE OR REPLACE FUNCTION sevsync_import_finished() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.state IN ('done', 'error') AND OLD.state IS DISTINCT FROM NEW.state THEN
    PERFORM sevsync_emit(NEW.account_id, jsonb_build_array(jsonb_build_object('type', 'import.finished',
      'data', jsonb_build_object('importId', NEW.import_id, 'kind', NEW.kind, 'done', NEW.done,
        'total', NEW.total, 'outcome', NEW.state, 'dryRun', NEW.dry_run))));
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER import_checkpoints_events AFTER UPDATE ON import_checkpoints
  FOR EACH ROW EXECUTE FUNCTION sevsync_import_finished();
