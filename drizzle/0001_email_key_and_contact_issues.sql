-- The customer match key: an e-mail typed in OneCockpit as "Anna@X.de " and the sevDesk address
-- "anna@x.de" are one customer. Whitespace (also non-breaking and zero-width) is trimmed, letters lower-cased.
CREATE OR REPLACE FUNCTION email_key(email text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT lower(regexp_replace($1, '^[\s\u00a0\u200b-\u200d\u2060\ufeff]+|[\s\u00a0\u200b-\u200d\u2060\ufeff]+$', '', 'g')) $$;--> statement-breakpoint
-- Customers that already share a key are merged into one before the key becomes unique: the survivor is the
-- one whose e-mail is already in key form (else the oldest); it gets the others' invoices, their values
-- (amounts of the same kind added up) and any field it lacks. Nothing is lost.
CREATE TEMP TABLE customer_merge AS
  SELECT c.id AS dup_id, s.id AS keep_id
  FROM customers c
  JOIN LATERAL (
    SELECT k.id FROM customers k
    WHERE k.account_id = c.account_id AND email_key(k.email) = email_key(c.email)
    ORDER BY (k.email = email_key(k.email)) DESC, k.id
    LIMIT 1
  ) s ON true
  WHERE s.id <> c.id;--> statement-breakpoint
UPDATE invoices i SET customer_id = m.keep_id, updated_at = now()
  FROM customer_merge m WHERE i.customer_id = m.dup_id;--> statement-breakpoint
INSERT INTO customer_values (customer_id, kind, amount, currency, updated_at)
  SELECT m.keep_id, v.kind, sum(v.amount), min(v.currency), now()
  FROM customer_values v JOIN customer_merge m ON m.dup_id = v.customer_id
  GROUP BY m.keep_id, v.kind
  ON CONFLICT (customer_id, kind) DO UPDATE SET amount = customer_values.amount + excluded.amount,
    updated_at = now();--> statement-breakpoint
UPDATE customers k SET
    company = coalesce(nullif(k.company, ''), d.company),
    title = coalesce(nullif(k.title, ''), d.title),
    first_name = coalesce(nullif(k.first_name, ''), d.first_name),
    last_name = coalesce(nullif(k.last_name, ''), d.last_name),
    street = coalesce(nullif(k.street, ''), d.street),
    zip = coalesce(nullif(k.zip, ''), d.zip),
    city = coalesce(nullif(k.city, ''), d.city),
    country = coalesce(nullif(k.country, ''), d.country),
    phone = coalesce(nullif(k.phone, ''), d.phone),
    updated_at = now()
  FROM (
    SELECT DISTINCT ON (m.keep_id) m.keep_id, c.company, c.title, c.first_name, c.last_name, c.street, c.zip,
      c.city, c.country, c.phone
    FROM customer_merge m JOIN customers c ON c.id = m.dup_id
    ORDER BY m.keep_id, c.id
  ) d
  WHERE k.id = d.keep_id;--> statement-breakpoint
DELETE FROM customers c USING customer_merge m WHERE c.id = m.dup_id;--> statement-breakpoint
UPDATE customers c SET total_value = v.total, updated_at = now()
  FROM (SELECT customer_id, sum(amount) AS total FROM customer_values GROUP BY customer_id) v
  WHERE c.id = v.customer_id AND c.id IN (SELECT keep_id FROM customer_merge)
    AND c.total_value IS DISTINCT FROM v.total;--> statement-breakpoint
DROP TABLE customer_merge;--> statement-breakpoint
DROP INDEX "customers_account_email_uq";--> statement-breakpoint
ALTER TABLE "source_contacts" ADD COLUMN "email_issue" text;--> statement-breakpoint
ALTER TABLE "source_contacts" ADD COLUMN "read_error" text;--> statement-breakpoint
CREATE UNIQUE INDEX "customers_account_email_key_uq" ON "customers" USING btree ("account_id",email_key("email"));
