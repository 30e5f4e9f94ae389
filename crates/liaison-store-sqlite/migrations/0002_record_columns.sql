-- The fields lists filter, order and search on move out of the JSON `data` into columns of
-- their own, an opportunity's contacts into rows of their own, and records keep their raw
-- payloads. Rows written before this
-- migration are filled in by the store right after it (the `backfill_record_columns` mark),
-- from their data, by the same rule that fills every new row.

ALTER TABLE records ADD COLUMN title TEXT;
ALTER TABLE records ADD COLUMN title_key TEXT;
ALTER TABLE records ADD COLUMN start_time INTEGER;
ALTER TABLE records ADD COLUMN end_time INTEGER;
ALTER TABLE records ADD COLUMN direction TEXT;
ALTER TABLE records ADD COLUMN is_private INTEGER NOT NULL DEFAULT 0;
ALTER TABLE records ADD COLUMN remote_created_at INTEGER;
-- What the source last sent about the record, as a JSON object (syncs merge into it). Rows
-- written before it existed have none: their payloads were not kept.
ALTER TABLE records ADD COLUMN remote_data TEXT;

CREATE TABLE opportunity_contacts (
    opportunity_id BLOB NOT NULL,
    position INTEGER NOT NULL,
    org_id BLOB NOT NULL,
    contact_id BLOB NOT NULL,
    PRIMARY KEY (opportunity_id, position)
) WITHOUT ROWID;
CREATE INDEX opportunity_contacts_contact ON opportunity_contacts (org_id, contact_id);

-- One index per order a list can take (ties broken by id); SQLite puts NULLs first
-- ascending, as the query contract does.
CREATE INDEX records_start_time ON records (org_id, kind, start_time, id);
CREATE INDEX records_end_time ON records (org_id, kind, end_time, id);
CREATE INDEX records_title ON records (org_id, kind, title, id);
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
