-- Events are now numbered by the store itself: a transaction keeps the events it appends and,
-- at commit, takes the per-org advisory lock and inserts them all in one statement with their
-- `seq` drawn in append order (see `PgTx::write_events`). The per-row deferred trigger cost an
-- UPDATE of every event row at commit. Every committed row already has its number.
DROP TRIGGER events_number ON events;
DROP FUNCTION events_number();
ALTER TABLE events ALTER COLUMN seq SET NOT NULL;
