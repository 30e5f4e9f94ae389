-- OAuth apps, and the user access tokens issued to them. Client secrets and tokens are kept
-- only as SHA-256 hashes. An app is deleted softly; deleting it revokes its tokens.

CREATE TABLE oauth_apps (
    client_id BLOB PRIMARY KEY,
    org_id BLOB NOT NULL REFERENCES orgs (id),
    connection_id BLOB NOT NULL REFERENCES connections (id),
    name TEXT NOT NULL,
    owner_id BLOB NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
);
CREATE INDEX oauth_apps_created ON oauth_apps (org_id, created_at, client_id);
CREATE INDEX oauth_apps_updated ON oauth_apps (org_id, updated_at, client_id);

CREATE TABLE access_tokens (
    id BLOB PRIMARY KEY,
    org_id BLOB NOT NULL REFERENCES orgs (id),
    client_id BLOB NOT NULL REFERENCES oauth_apps (client_id),
    user_id BLOB NOT NULL,
    scope TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX access_tokens_created ON access_tokens (client_id, created_at, id);
CREATE INDEX access_tokens_updated ON access_tokens (client_id, updated_at, id);
