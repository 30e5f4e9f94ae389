-- OAuth apps, and the user access tokens issued to them. Client secrets and tokens are kept
-- only as SHA-256 hashes. An app is deleted softly; deleting it revokes its tokens.

CREATE TABLE oauth_apps (
    client_id uuid PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES orgs (id),
    connection_id uuid NOT NULL REFERENCES connections (id),
    name text NOT NULL,
    owner_id uuid NOT NULL,
    secret_hash text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted_at timestamptz
);
CREATE INDEX oauth_apps_created ON oauth_apps (org_id, created_at, client_id);
CREATE INDEX oauth_apps_updated ON oauth_apps (org_id, updated_at, client_id);

CREATE TABLE access_tokens (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES orgs (id),
    client_id uuid NOT NULL REFERENCES oauth_apps (client_id),
    user_id uuid NOT NULL,
    scope text NOT NULL,
    hash text NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX access_tokens_created ON access_tokens (client_id, created_at, id);
CREATE INDEX access_tokens_updated ON access_tokens (client_id, updated_at, id);
