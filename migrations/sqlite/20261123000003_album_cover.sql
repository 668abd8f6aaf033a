-- Albums whose cover an admin uploaded; an album without a row has a cover generated from its
-- id and title. Paths are made by the service, never taken from a request; new content gets
-- a new name (it carries the content hash), so a replaced file is never rewritten.
CREATE TABLE album_cover (
    album_id     INTEGER PRIMARY KEY REFERENCES album (album_id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes        INTEGER NOT NULL CHECK (bytes >= 0),
    width        INTEGER NOT NULL CHECK (width > 0),
    height       INTEGER NOT NULL CHECK (height > 0),
    -- SHA-256 of the file, hex: variant names and ETags derive from it.
    hash         TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
