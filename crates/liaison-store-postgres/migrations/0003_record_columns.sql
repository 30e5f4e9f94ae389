-- The fields lists filter, order and search on move out of the JSON `data` into columns of
-- their own, an opportunity's contacts into rows of their own, and records keep their raw
-- payloads. Rows written before this
-- migration are filled in by the store right after it (the `backfill_record_columns` mark),
-- from their data, by the same rule that fills every new row.
-- Titles compare byte by byte (`C`), as SQLite's do, so both backends order them alike.

ALTER TABLE records
    ADD COLUMN title text COLLATE "C",
    ADD COLUMN title_key text COLLATE "C",
    ADD COLUMN start_time timestamptz,
    ADD COLUMN end_time timestamptz,
    ADD COLUMN direction text,
    ADD COLUMN is_private boolean NOT NULL DEFAULT false,
    ADD COLUMN remote_created_at timestamptz,
    -- What the source last sent about the record, as a JSON object (syncs merge into it).
    -- Rows written before it existed have none: their payloads were not kept.
    ADD COLUMN remote_data text;

CREATE TABLE opportunity_contacts (
    opportunity_id uuid NOT NULL,
    position integer NOT NULL,
    org_id uuid NOT NULL,
    contact_id uuid NOT NULL,
    PRIMARY KEY (opportunity_id, position)
);
CREATE INDEX opportunity_contacts_contact ON opportunity_contacts (org_id, contact_id);

-- One index per order a list can take (ties broken by id), NULLs first ascending as the
-- query contract has them; a descending list reads the same index backwards.
CREATE INDEX records_start_time ON records (org_id, kind, start_time NULLS FIRST, id);
CREATE INDEX records_end_time ON records (org_id, kind, end_time NULLS FIRST, id);
CREATE INDEX records_title ON records (org_id, kind, title NULLS FIRST, id);
CREATE INDEX records_created ON records (org_id, kind, created_at, id);
CREATE INDEX records_updated ON records (org_id, kind, updated_at, id);
CREATE INDEX records_owner ON records (org_id, owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX records_engagement_type ON records (org_id, engagement_type_id)
    WHERE engagement_type_id IS NOT NULL;
CREATE INDEX engagement_types_activity ON engagement_types (org_id, activity_type);
-- The reconciliation window goes by the real start time now, which records_start_time orders:
-- the index on `sort_at` it used is one less to write on every insert.
DROP INDEX records_window;

INSERT INTO settings (key, value) VALUES ('backfill_record_columns', 'pending');
