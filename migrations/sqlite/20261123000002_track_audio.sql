-- Where each track's audio lives, relative to the media store. Paths are made by the service
-- (seeding and uploads), never taken from a request; a new file gets a new name, so a
-- replaced file stays readable to whoever is streaming it.
CREATE TABLE track_audio (
    track_id     INTEGER PRIMARY KEY REFERENCES track (track_id),
    path         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes        INTEGER NOT NULL CHECK (bytes >= 0),
    -- A strong validator: a hash of the content.
    etag         TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
