-- The Chinook model. Money is integer cents; timestamps are RFC 3339 UTC text, which
-- sorts chronologically and reads the same through sqlx's Any driver on both backends.

CREATE TABLE artist (
    artist_id INTEGER PRIMARY KEY,
    name      TEXT NOT NULL
);

CREATE TABLE album (
    album_id  INTEGER PRIMARY KEY,
    title     TEXT NOT NULL,
    artist_id INTEGER NOT NULL REFERENCES artist (artist_id)
);
CREATE INDEX album_artist_id ON album (artist_id);

CREATE TABLE genre (
    genre_id INTEGER PRIMARY KEY,
    name     TEXT NOT NULL
);

CREATE TABLE media_type (
    media_type_id INTEGER PRIMARY KEY,
    name          TEXT NOT NULL
);

CREATE TABLE track (
    track_id         INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    album_id         INTEGER REFERENCES album (album_id),
    media_type_id    INTEGER NOT NULL REFERENCES media_type (media_type_id),
    genre_id         INTEGER REFERENCES genre (genre_id),
    composer         TEXT,
    milliseconds     INTEGER NOT NULL CHECK (milliseconds >= 0),
    bytes            INTEGER CHECK (bytes >= 0),
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0)
);
CREATE INDEX track_album_id ON track (album_id);
CREATE INDEX track_genre_id ON track (genre_id);
CREATE INDEX track_media_type_id ON track (media_type_id);

CREATE TABLE playlist (
    playlist_id INTEGER PRIMARY KEY,
    name        TEXT NOT NULL
);

-- Position keeps a playlist's order exactly and lets the same track appear twice.
CREATE TABLE playlist_track (
    playlist_id INTEGER NOT NULL REFERENCES playlist (playlist_id) ON DELETE CASCADE,
    position    INTEGER NOT NULL CHECK (position > 0),
    track_id    INTEGER NOT NULL REFERENCES track (track_id),
    PRIMARY KEY (playlist_id, position)
);
CREATE INDEX playlist_track_track_id ON playlist_track (track_id);

CREATE TABLE employee (
    employee_id INTEGER PRIMARY KEY,
    last_name   TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    title       TEXT,
    reports_to  INTEGER REFERENCES employee (employee_id),
    birth_date  TEXT,
    hire_date   TEXT,
    address     TEXT,
    city        TEXT,
    state       TEXT,
    country     TEXT,
    postal_code TEXT,
    phone       TEXT,
    fax         TEXT,
    email       TEXT NOT NULL
);
CREATE INDEX employee_reports_to ON employee (reports_to);

CREATE TABLE customer (
    customer_id    INTEGER PRIMARY KEY,
    first_name     TEXT NOT NULL,
    last_name      TEXT NOT NULL,
    company        TEXT,
    address        TEXT,
    city           TEXT,
    state          TEXT,
    country        TEXT,
    postal_code    TEXT,
    phone          TEXT,
    fax            TEXT,
    email          TEXT NOT NULL,
    support_rep_id INTEGER REFERENCES employee (employee_id)
);
CREATE INDEX customer_support_rep_id ON customer (support_rep_id);
CREATE INDEX customer_email ON customer (email);

CREATE TABLE invoice (
    invoice_id          INTEGER PRIMARY KEY,
    customer_id         INTEGER NOT NULL REFERENCES customer (customer_id),
    invoice_date        TEXT NOT NULL,
    billing_address     TEXT,
    billing_city        TEXT,
    billing_state       TEXT,
    billing_country     TEXT,
    billing_postal_code TEXT,
    total_cents         INTEGER NOT NULL CHECK (total_cents >= 0)
);
CREATE INDEX invoice_customer_id ON invoice (customer_id, invoice_date);
CREATE INDEX invoice_invoice_date ON invoice (invoice_date);

CREATE TABLE invoice_line (
    invoice_line_id  INTEGER PRIMARY KEY,
    invoice_id       INTEGER NOT NULL REFERENCES invoice (invoice_id),
    track_id         INTEGER NOT NULL REFERENCES track (track_id),
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    quantity         INTEGER NOT NULL CHECK (quantity > 0)
);
CREATE INDEX invoice_line_invoice_id ON invoice_line (invoice_id);
CREATE INDEX invoice_line_track_id ON invoice_line (track_id);

-- A login. Every account is exactly one customer or one employee; the role decides what
-- it may see (customer; staff for sales employees; admin for IT and the General Manager).
CREATE TABLE account (
    account_id    INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('customer', 'staff', 'admin')),
    customer_id   INTEGER UNIQUE REFERENCES customer (customer_id),
    employee_id   INTEGER UNIQUE REFERENCES employee (employee_id),
    created_at    TEXT NOT NULL,
    CHECK ((customer_id IS NULL) <> (employee_id IS NULL))
);

-- Bearer tokens are stored as SHA-256 hashes, so a leaked table grants nothing.
CREATE TABLE access_token (
    token_hash TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX access_token_account_id ON access_token (account_id);

-- Facts about the catalog as a whole: where it came from, and its version.
CREATE TABLE catalog_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
