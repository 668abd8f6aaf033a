-- Playlist positions become sparse sort keys: entries written afresh are 2^32 apart, so an
-- entry goes in between two others by taking a key between theirs and no other row moves.
-- Readers only ever ORDER BY position, so the order is unchanged. Every existing position is
-- below 2^32, so no row's new key can meet a row not yet moved (the key stays unique).
UPDATE playlist_track SET position = position * 4294967296;
