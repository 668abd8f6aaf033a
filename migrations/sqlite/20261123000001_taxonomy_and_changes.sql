-- Typed, hierarchical taxonomy terms and their attachments to tracks, albums and artists.
-- A slug is unique within its type; a parent is a term of the same type (checked by the
-- application, which also refuses cycles).
CREATE TABLE taxonomy_term (
    term_id     INTEGER PRIMARY KEY,
    type        TEXT NOT NULL,
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    parent_id   INTEGER REFERENCES taxonomy_term (term_id),
    sort_order  INTEGER NOT NULL DEFAULT 0,
    meta        TEXT NOT NULL DEFAULT '{}',
    UNIQUE (type, slug)
);
CREATE INDEX taxonomy_term_parent_id ON taxonomy_term (parent_id);

-- Entities of three kinds share this table, so entity_id has no foreign key; deleting an
-- entity deletes its attachments in the same transaction.
CREATE TABLE term_attachment (
    term_id     INTEGER NOT NULL REFERENCES taxonomy_term (term_id) ON DELETE CASCADE,
    entity_kind TEXT NOT NULL CHECK (entity_kind IN ('track', 'album', 'artist')),
    entity_id   INTEGER NOT NULL,
    PRIMARY KEY (term_id, entity_kind, entity_id)
);
CREATE INDEX term_attachment_entity ON term_attachment (entity_kind, entity_id);

-- The catalog's change log: every write to the catalog or a taxonomy appends the index
-- entries it touched, in the write's transaction. Each instance applies the log to its own
-- index in order, so a missed notification delays an update but never loses it.
CREATE TABLE catalog_change (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    changed_at TEXT NOT NULL,
    entries    TEXT NOT NULL
);

-- Catalog writes update this row first, so on PostgreSQL they commit one at a time and the
-- change log's sequence numbers commit in order.
INSERT INTO catalog_meta (key, value) VALUES ('catalog_write_lock', '0');
