-- What each account says about the catalog through any client: stars and ratings (of
-- tracks, albums and artists), plays (scrobbles, which feed the frequent and recent album
-- lists and play counts) and the play queue a player saves to resume on another device.
CREATE TABLE star (
    account_id INTEGER NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('track', 'album', 'artist')),
    item_id    INTEGER NOT NULL,
    starred_at TEXT NOT NULL,
    PRIMARY KEY (account_id, kind, item_id)
);
CREATE INDEX star_account_kind_starred_at ON star (account_id, kind, starred_at);

CREATE TABLE rating (
    account_id INTEGER NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('track', 'album', 'artist')),
    item_id    INTEGER NOT NULL,
    rating     INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    rated_at   TEXT NOT NULL,
    PRIMARY KEY (account_id, kind, item_id)
);

-- One row per account and track; album_id is copied in so album lists group without a join.
CREATE TABLE play_count (
    account_id  INTEGER NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
    track_id    INTEGER NOT NULL REFERENCES track (track_id),
    album_id    INTEGER,
    plays       INTEGER NOT NULL CHECK (plays > 0),
    last_played TEXT NOT NULL,
    PRIMARY KEY (account_id, track_id)
);
CREATE INDEX play_count_account_album ON play_count (account_id, album_id);

CREATE TABLE play_queue (
    account_id    INTEGER PRIMARY KEY REFERENCES account (account_id) ON DELETE CASCADE,
    current_track INTEGER,
    position_ms   INTEGER NOT NULL DEFAULT 0 CHECK (position_ms >= 0),
    changed_at    TEXT NOT NULL,
    changed_by    TEXT NOT NULL
);

CREATE TABLE play_queue_entry (
    account_id INTEGER NOT NULL REFERENCES play_queue (account_id) ON DELETE CASCADE,
    position   INTEGER NOT NULL CHECK (position > 0),
    track_id   INTEGER NOT NULL REFERENCES track (track_id),
    PRIMARY KEY (account_id, position)
);
