-- Liaison core schema (PostgreSQL). Ids are native uuid (UUIDv7, so id order is creation
-- order), instants timestamptz (microseconds, as the domain truncates them).
-- Record data stays `text`, not jsonb: rows must read back byte-identical, and jsonb would
-- reorder keys and drop white space. Queries that look inside cast to jsonb where needed.

CREATE TABLE orgs (
    id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);

CREATE TABLE connections (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES orgs (id),
    name text NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE tokens (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES orgs (id),
    connection_id uuid NOT NULL REFERENCES connections (id),
    name text NOT NULL,
    prefix text NOT NULL,
    hash text NOT NULL UNIQUE,
    scopes text NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

CREATE TABLE settings (
    key text PRIMARY KEY,
    value text NOT NULL
);

-- Accounts, contacts, leads, opportunities and engagements: shared bookkeeping in columns,
-- the kind's own fields as JSON text in `data`.
CREATE TABLE records (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL,
    connection_id uuid NOT NULL,
    kind text NOT NULL,
    external_id text NOT NULL,
    account_id uuid,
    contact_id uuid,
    lead_id uuid,
    opportunity_id uuid,
    owner_id uuid,
    engagement_type_id uuid,
    recording_id text,
    sort_at timestamptz NOT NULL,
    remote_updated_at timestamptz,
    deleted_at timestamptz,
    merged_into uuid,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    data text NOT NULL
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
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL,
    connection_id uuid NOT NULL,
    external_id text,
    name text NOT NULL,
    activity_type text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX engagement_types_external
    ON engagement_types (org_id, connection_id, external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX engagement_types_name
    ON engagement_types (org_id, connection_id, name) WHERE external_id IS NULL;

CREATE TABLE crm_users (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL,
    connection_id uuid NOT NULL,
    external_id text NOT NULL,
    email text,
    name text,
    email_key text,
    name_key text,
    user_id uuid,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX crm_users_external ON crm_users (org_id, connection_id, external_id);
CREATE INDEX crm_users_user ON crm_users (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX crm_users_email ON crm_users (org_id, email_key);
CREATE INDEX crm_users_name ON crm_users (org_id, name_key);
CREATE INDEX crm_users_external_any ON crm_users (org_id, external_id);

CREATE TABLE users (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL,
    email text,
    phone_number text,
    first_name text,
    last_name text,
    member_team_id text,
    coach_team_ids text NOT NULL,
    external_id text,
    disabled boolean NOT NULL,
    billable boolean NOT NULL,
    is_admin boolean NOT NULL,
    contact_settings text,
    email_key text,
    name_key text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_external ON users (org_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX users_email ON users (org_id, email_key);
CREATE INDEX users_name ON users (org_id, name_key);

CREATE TABLE participants (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL,
    connection_id uuid NOT NULL,
    parent_kind text NOT NULL,
    parent_id uuid NOT NULL,
    crm_user_id uuid NOT NULL,
    name text,
    share double precision,
    deleted_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX participants_pair ON participants (parent_id, crm_user_id);
CREATE INDEX participants_crm_user ON participants (crm_user_id);
CREATE INDEX participants_list ON participants (org_id, parent_kind, id);

-- The outbox. Readers page by `seq` and must never see seq N+1 before N is visible, so seq
-- follows commit order, not insert order. A sequence alone hands out numbers at insert time,
-- and a transaction that drew a lower number could commit after one that drew a higher: a
-- reader already past it would miss it. So the number is drawn at commit (a deferred
-- trigger), under a per-org lock held until the commit completes; until then `seq` is NULL
-- and the row is visible only to its own transaction. The lock is per org because readers
-- page one org's feed; a reader of every org's events at once would need a single key.
CREATE SEQUENCE events_seq AS bigint;

CREATE TABLE events (
    seq bigint UNIQUE,
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL,
    entity text NOT NULL,
    entity_id uuid NOT NULL,
    action text NOT NULL,
    before text,
    after text,
    at timestamptz NOT NULL
);
CREATE INDEX events_org ON events (org_id, seq);

CREATE FUNCTION events_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Class id 0x4c49 ('LI') keeps this lock apart from any other advisory lock user; a hash
    -- collision between two orgs only serialises their commits, it never loses an event.
    PERFORM pg_advisory_xact_lock(19529, hashtext(NEW.org_id::text));
    UPDATE events SET seq = nextval('events_seq') WHERE id = NEW.id;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER events_number
    AFTER INSERT ON events
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION events_number();
