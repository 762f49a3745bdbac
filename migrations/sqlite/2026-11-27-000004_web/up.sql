-- Sign-in for people on the web pages: local passwords (argon2id PHC
-- strings, never the password) and server-side sessions. A session id is
-- stored only as its SHA-256; the browser holds the id itself.
CREATE TABLE password_credentials (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    org_slug TEXT NOT NULL REFERENCES organisations (slug),
    username TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (org_slug, username)
);

CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);

CREATE INDEX web_sessions_user ON web_sessions (user_id);
