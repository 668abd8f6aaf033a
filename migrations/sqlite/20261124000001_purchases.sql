-- Purchases: what each customer owns, and the idempotency keys that make a purchase happen
-- exactly once however often the client retries.

-- One row per track a customer owns, written in the purchase's own transaction. The primary
-- key is what keeps two purchases racing each other from selling one customer a track twice.
CREATE TABLE customer_track (
    customer_id INTEGER NOT NULL REFERENCES customer (customer_id),
    track_id    INTEGER NOT NULL REFERENCES track (track_id),
    -- The first invoice that bought it.
    invoice_id  INTEGER NOT NULL REFERENCES invoice (invoice_id),
    PRIMARY KEY (customer_id, track_id)
);
CREATE INDEX customer_track_invoice_id ON customer_track (invoice_id);

-- Invoices already in the database (an upgrade) own their tracks too; a fresh database is
-- filled the same way when it is seeded.
INSERT INTO customer_track (customer_id, track_id, invoice_id)
SELECT i.customer_id, l.track_id, MIN(i.invoice_id)
FROM invoice_line l JOIN invoice i ON i.invoice_id = l.invoice_id
GROUP BY i.customer_id, l.track_id;

-- A purchase's Idempotency-Key, scoped to the account, with the answer it got. The row is
-- inserted first in the purchase's transaction, so a concurrent request with the same key
-- waits for that transaction and then finds the answer; a purchase that fails or dies
-- leaves no row, so its retry runs afresh.
CREATE TABLE idempotency_key (
    account_id      INTEGER NOT NULL REFERENCES account (account_id),
    idempotency_key TEXT NOT NULL,
    -- SHA-256 of the request body in canonical form: the same key with another body is an error.
    request_hash    TEXT NOT NULL,
    status          INTEGER NOT NULL,
    response        TEXT NOT NULL,
    invoice_id      INTEGER REFERENCES invoice (invoice_id),
    created_at      TEXT NOT NULL,
    PRIMARY KEY (account_id, idempotency_key)
);
-- Old keys are forgotten per account as it buys again.
CREATE INDEX idempotency_key_account_created_at ON idempotency_key (account_id, created_at);
