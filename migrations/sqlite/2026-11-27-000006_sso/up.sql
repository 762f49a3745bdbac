-- Single sign-on (OpenID Connect). A sign-in in progress: the state's hash
-- (the browser holds the state itself, in a cookie and in the IdP's
-- redirect), the nonce and the PKCE verifier; used once, and only for ten
-- minutes. The organisation is the one whose identity provider was chosen,
-- never anything the person or the token says.
CREATE TABLE sso_logins (
    state_hash TEXT PRIMARY KEY NOT NULL,
    org_slug TEXT NOT NULL REFERENCES organisations (slug),
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- Who an identity provider's subject is in Tillit.
CREATE TABLE sso_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    org_slug TEXT NOT NULL REFERENCES organisations (slug),
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    last_sign_in_at TIMESTAMP NOT NULL,
    PRIMARY KEY (issuer, subject)
);

CREATE INDEX sso_identities_user ON sso_identities (user_id);
