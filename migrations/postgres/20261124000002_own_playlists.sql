-- Customers' own playlists. A playlist with no customer is one of the store's (Chinook's
-- imported playlists), and those are always public; a customer's may be private, which
-- keeps it out of the catalog and its index. Order stays in playlist_track.position.
ALTER TABLE playlist
    ADD COLUMN customer_id BIGINT REFERENCES customer (customer_id),
    ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public',
    ADD CONSTRAINT playlist_visibility
        CHECK (visibility = 'public' OR (visibility = 'private' AND customer_id IS NOT NULL));
CREATE INDEX playlist_customer_id ON playlist (customer_id, playlist_id);
