-- Recordings: who recorded them, when and where, which CRM records they are linked to and
-- why (`standing`: AUTOMATIC, DEEP_LINK or MANUAL; `rule`: what decided the engagement link),
-- and the contract's other fields as JSON in `details`. Transcripts, up to 5 MiB, live in a
-- table of their own so that lists never read them.

CREATE TABLE recordings (
    id BLOB NOT NULL,
    org_id BLOB NOT NULL,
    user_id BLOB NOT NULL,
    title TEXT,
    date_created INTEGER NOT NULL,
    duration_ms INTEGER,
    speech_end_ms INTEGER,
    latitude REAL,
    longitude REAL,
    deep_link TEXT,
    engagement_id BLOB,
    opportunity_id BLOB,
    account_id BLOB,
    contact_id BLOB,
    lead_id BLOB,
    standing TEXT NOT NULL,
    rule TEXT,
    linked_at INTEGER,
    details TEXT NOT NULL,
    deleted_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- The recorder chooses the id: unique within its organization, which is all any lookup
    -- names, so that one organization's ids say nothing about another's.
    PRIMARY KEY (org_id, id)
);
CREATE INDEX recordings_recorded ON recordings (org_id, date_created);
CREATE INDEX recordings_user ON recordings (org_id, user_id, date_created);
CREATE INDEX recordings_engagement ON recordings (org_id, engagement_id)
    WHERE engagement_id IS NOT NULL;

CREATE TABLE recording_transcripts (
    org_id BLOB NOT NULL,
    recording_id BLOB NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (org_id, recording_id)
);
