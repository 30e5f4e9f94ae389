-- Liaison core schema (SQLite). Instants are INTEGER microseconds since the Unix epoch (UTC);
-- ids are 16-byte UUIDv7 blobs, so id order is creation order.

CREATE TABLE orgs (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE connections (
    id BLOB PRIMARY KEY,
    org_id BLOB NOT NULL REFERENCES orgs (id),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE tokens (
    id BLOB PRIMARY KEY,
    org_id BLOB NOT NULL REFERENCES orgs (id),
    connection_id BLOB NOT NULL REFERENCES connections (id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Accounts, contacts, leads, opportunities and engagements: shared bookkeeping in columns,
-- the kind's own fields as JSON in `data`.
CREATE TABLE records (
    id BLOB PRIMARY KEY,
    org_id BLOB NOT NULL,
    connection_id BLOB NOT NULL,
    kind TEXT NOT NULL,
    external_id TEXT NOT NULL,
    account_id BLOB,
    contact_id BLOB,
    lead_id BLOB,
    opportunity_id BLOB,
    owner_id BLOB,
    engagement_type_id BLOB,
    recording_id TEXT,
    sort_at INTEGER NOT NULL,
    remote_updated_at INTEGER,
    deleted_at INTEGER,
    merged_into BLOB,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE UNIQUE INDEX records_external ON records (org_id, connection_id, kind, external_id);
CREATE INDEX records_list ON records (org_id, kind, id);
CREATE INDEX records_window ON records (connection_id, kind, sort_at);
CREATE INDEX records_recording ON records (org_id, recording_id) WHERE recording_id IS NOT NULL;
CREATE INDEX records_account ON records (org_id, account_id) WHERE account_id IS NOT NULL;
CREATE INDEX records_contact ON records (org_id, contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX records_lead ON records (org_id, lead_id) WHERE lead_id IS NOT NULL;
CREATE INDEX records_opportunity ON records (org_id, opportunity_id) WHERE opportunity_id IS NOT NULL;

CREATE TABLE engagement_types (
    id BLOB PRIMARY KEY,
    org_id BLOB NOT NULL,
    connection_id BLOB NOT NULL,
    external_id TEXT,
    name TEXT NOT NULL,
    activity_type TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX engagement_types_external
    ON engagement_types (org_id, connection_id, external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX engagement_types_name
    ON engagement_types (org_id, connection_id, name) WHERE external_id IS NULL;

CREATE TABLE crm_users (
    id BLOB PRIMARY KEY,
    org_id BLOB NOT NULL,
    connection_id BLOB NOT NULL,
    external_id TEXT NOT NULL,
    email TEXT,
    name TEXT,
    email_key TEXT,
    name_key TEXT,
    user_id BLOB,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX crm_users_external ON crm_users (org_id, connection_id, external_id);
CREATE INDEX crm_users_user ON crm_users (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX crm_users_email ON crm_users (org_id, email_key);
CREATE INDEX crm_users_name ON crm_users (org_id, name_key);
CREATE INDEX crm_users_external_any ON crm_users (org_id, external_id);

CREATE TABLE users (
    id BLOB PRIMARY KEY,
    org_id BLOB NOT NULL,
    email TEXT,
    phone_number TEXT,
    first_name TEXT,
    last_name TEXT,
    member_team_id TEXT,
    coach_team_ids TEXT NOT NULL,
    external_id TEXT,
    disabled INTEGER NOT NULL,
    billable INTEGER NOT NULL,
    is_admin INTEGER NOT NULL,
    contact_settings TEXT,
    email_key TEXT,
    name_key TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_external ON users (org_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX users_email ON users (org_id, email_key);
CREATE INDEX users_name ON users (org_id, name_key);

CREATE TABLE participants (
    id BLOB PRIMARY KEY,
    org_id BLOB NOT NULL,
    connection_id BLOB NOT NULL,
    parent_kind TEXT NOT NULL,
    parent_id BLOB NOT NULL,
    crm_user_id BLOB NOT NULL,
    name TEXT,
    share REAL,
    deleted_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX participants_pair ON participants (parent_id, crm_user_id);
CREATE INDEX participants_crm_user ON participants (crm_user_id);
CREATE INDEX participants_list ON participants (org_id, parent_kind, id);

CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id BLOB NOT NULL UNIQUE,
    org_id BLOB NOT NULL,
    entity TEXT NOT NULL,
    entity_id BLOB NOT NULL,
    action TEXT NOT NULL,
    before TEXT,
    after TEXT,
    at INTEGER NOT NULL
);
CREATE INDEX events_org ON events (org_id, seq);
