-- Entries of the seven columns. Deleted entries stay (soft delete) with
-- their history.
CREATE TABLE entries (
	id          INTEGER PRIMARY KEY,
	external_id TEXT    NOT NULL DEFAULT '',
	column_code TEXT    NOT NULL,
	title       TEXT    NOT NULL,
	content     TEXT    NOT NULL DEFAULT '',
	department  TEXT    NOT NULL,
	matter      TEXT    NOT NULL DEFAULT '',
	keywords    TEXT    NOT NULL DEFAULT '[]', -- JSON array
	similar     TEXT    NOT NULL DEFAULT '[]', -- JSON array
	fields      TEXT    NOT NULL DEFAULT '{}', -- JSON object of column-specific fields
	version     INTEGER NOT NULL DEFAULT 1,
	created_at  TEXT    NOT NULL,
	updated_at  TEXT    NOT NULL,
	deleted_at  TEXT
);
CREATE UNIQUE INDEX entries_external_id ON entries(external_id) WHERE external_id != '' AND deleted_at IS NULL;
CREATE INDEX entries_column_title ON entries(column_code, title) WHERE deleted_at IS NULL;
CREATE INDEX entries_department ON entries(department, column_code);

-- Every change to an entry: who, when, and the old and new values as JSON.
CREATE TABLE entry_revisions (
	id        INTEGER PRIMARY KEY,
	entry_id  INTEGER NOT NULL REFERENCES entries(id),
	version   INTEGER NOT NULL,
	action    TEXT    NOT NULL CHECK (action IN ('create', 'update', 'delete', 'restore')),
	actor     TEXT    NOT NULL,
	at        TEXT    NOT NULL,
	old_value TEXT,
	new_value TEXT
);
CREATE INDEX entry_revisions_entry ON entry_revisions(entry_id, id);

-- Review items: unanswered questions (and later other types) that a
-- department must backfill within the working-day limit.
CREATE TABLE review_items (
	id              INTEGER PRIMARY KEY,
	type            TEXT    NOT NULL DEFAULT 'unanswered',
	question        TEXT    NOT NULL, -- the first wording
	group_key       TEXT    NOT NULL, -- normalised question, for grouping
	department      TEXT    NOT NULL,
	occurrences     INTEGER NOT NULL DEFAULT 1,
	first_asked_at  TEXT    NOT NULL,
	last_asked_at   TEXT    NOT NULL,
	due_at          TEXT    NOT NULL,
	due_provisional INTEGER NOT NULL DEFAULT 0,
	status          TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'dismissed')),
	closed_at       TEXT,
	closed_on_time  INTEGER,
	entry_id        INTEGER REFERENCES entries(id)
);
CREATE INDEX review_items_open ON review_items(status, due_at);
CREATE INDEX review_items_group ON review_items(group_key, status);

-- Every question asked, with its outcome.
CREATE TABLE queries (
	id             INTEGER PRIMARY KEY,
	question       TEXT    NOT NULL,
	channel        TEXT    NOT NULL DEFAULT '',
	session_id     TEXT    NOT NULL DEFAULT '',
	asked_at       TEXT    NOT NULL,
	answered       INTEGER NOT NULL,
	confidence     REAL    NOT NULL,
	entry_id       INTEGER REFERENCES entries(id),
	review_item_id INTEGER REFERENCES review_items(id)
);
CREATE INDEX queries_asked_at ON queries(asked_at);
CREATE INDEX queries_review_item ON queries(review_item_id);
