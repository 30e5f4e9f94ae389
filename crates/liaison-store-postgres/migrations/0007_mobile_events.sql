-- Mobile events: what the recording app reported, each of one user and maybe of one
-- recording, with its payload as JSON text. They are only ever added.

CREATE TABLE mobile_events (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL,
    user_id uuid NOT NULL,
    recording_id uuid,
    external_opportunity_ids text NOT NULL,
    event_code text NOT NULL,
    payload text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX mobile_events_created ON mobile_events (org_id, created_at, id);
CREATE INDEX mobile_events_user ON mobile_events (org_id, user_id, created_at, id);
CREATE INDEX mobile_events_recording ON mobile_events (org_id, recording_id, created_at, id)
    WHERE recording_id IS NOT NULL;
