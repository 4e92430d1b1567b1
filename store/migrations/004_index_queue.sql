-- Entries changed in the store whose change has not reached the search
-- index yet. A row is written in the same transaction as the change and
-- removed once the index holds that version, so a crash or a failed index
-- update between the two leaves a marker that is repaired at the next start.
CREATE TABLE index_queue (
	entry_id  INTEGER PRIMARY KEY REFERENCES entries(id),
	version   INTEGER NOT NULL, -- the entry's version when queued
	queued_at TEXT    NOT NULL
);
