-- Recordings: who recorded them, when and where, which CRM records they are linked to and
-- why (`standing`: AUTOMATIC, DEEP_LINK or MANUAL; `rule`: what decided the engagement link),
-- and the contract's other fields as JSON text in `details`. Transcripts, up to 5 MiB, live
-- in a table of their own so that lists never read them.

CREATE TABLE recordings (
    id uuid NOT NULL,
    org_id uuid NOT NULL,
    user_id uuid NOT NULL,
    title text,
    date_created timestamptz NOT NULL,
    duration_ms bigint,
    speech_end_ms bigint,
    latitude double precision,
    longitude double precision,
    deep_link text,
    engagement_id uuid,
    opportunity_id uuid,
    account_id uuid,
    contact_id uuid,
    lead_id uuid,
    standing text NOT NULL,
    rule text,
    linked_at timestamptz,
    details text NOT NULL,
    deleted_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    -- The recorder chooses the id: unique within its organization, which is all any lookup
    -- names, so that one organization's ids say nothing about another's.
    PRIMARY KEY (org_id, id)
);
CREATE INDEX recordings_recorded ON recordings (org_id, date_created);
CREATE INDEX recordings_user ON recordings (org_id, user_id, date_created);
CREATE INDEX recordings_engagement ON recordings (org_id, engagement_id)
    WHERE engagement_id IS NOT NULL;

CREATE TABLE recording_transcripts (
    org_id uuid NOT NULL,
    recording_id uuid NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (org_id, recording_id)
);
