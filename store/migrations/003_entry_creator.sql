-- Who first put an entry into the KB: the seed, an upload, a backfill.
ALTER TABLE entries ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
UPDATE entries SET created_by = COALESCE((SELECT actor FROM entry_revisions r WHERE r.entry_id = entries.id ORDER BY r.id LIMIT 1), '');
