-- How Subsonic players sign in besides the account password. API keys are stored as SHA-256
-- hashes (256 random bits, shown once). An app password must be recoverable, because token
-- auth (md5 of the secret and a salt) needs the secret itself: it is stored encrypted
-- (XChaCha20-Poly1305 under CHINOOK_APP_PASSWORD_KEY, bound to the account), never in clear.
CREATE TABLE subsonic_api_key (
    key_id     INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX subsonic_api_key_account_id ON subsonic_api_key (account_id, key_id);

CREATE TABLE subsonic_app_password (
    account_id INTEGER PRIMARY KEY REFERENCES account (account_id) ON DELETE CASCADE,
    nonce      TEXT NOT NULL,
    ciphertext TEXT NOT NULL,
    created_at TEXT NOT NULL
);
