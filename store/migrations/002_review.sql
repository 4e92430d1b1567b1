-- The review workflow: lifecycle, audit trail, feedback, proposals and
-- accounts.
ALTER TABLE review_items ADD COLUMN dismiss_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE review_items ADD COLUMN duplicate_of INTEGER REFERENCES review_items(id);
ALTER TABLE review_items ADD COLUMN closed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE review_items ADD COLUMN answer_entry_id INTEGER REFERENCES entries(id); -- for improve items: the entry to improve
CREATE INDEX review_items_department ON review_items(department, status, due_at);

-- Who did what to a review item, and when.
CREATE TABLE review_events (
	id      INTEGER PRIMARY KEY,
	item_id INTEGER NOT NULL REFERENCES review_items(id),
	at      TEXT    NOT NULL,
	actor   TEXT    NOT NULL,
	action  TEXT    NOT NULL,
	detail  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX review_events_item ON review_events(item_id, id);

ALTER TABLE queries ADD COLUMN department TEXT NOT NULL DEFAULT '';  -- the answering entry's or the item's department
ALTER TABLE queries ADD COLUMN helpful INTEGER;                      -- NULL: no feedback; 1 helpful; 0 unhelpful
ALTER TABLE queries ADD COLUMN feedback_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE queries ADD COLUMN selected_entry_id INTEGER REFERENCES entries(id);
ALTER TABLE queries ADD COLUMN suggestions TEXT NOT NULL DEFAULT '[]'; -- JSON array of suggested entry ids

-- A user's wording proposed as a new similar question of an entry.
CREATE TABLE similar_proposals (
	id         INTEGER PRIMARY KEY,
	entry_id   INTEGER NOT NULL REFERENCES entries(id),
	question   TEXT    NOT NULL,
	query_id   INTEGER REFERENCES queries(id),
	status     TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
	created_at TEXT    NOT NULL,
	decided_at TEXT,
	decided_by TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX similar_proposals_pending ON similar_proposals(entry_id, question) WHERE status = 'pending';

CREATE TABLE departments (
	name       TEXT PRIMARY KEY,
	created_at TEXT NOT NULL
);

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	role          TEXT NOT NULL CHECK (role IN ('reviewer', 'maintainer', 'admin')),
	department    TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL,
	created_at    TEXT NOT NULL,
	disabled_at   TEXT
);

CREATE TABLE tokens (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL,
	role         TEXT NOT NULL CHECK (role IN ('reviewer', 'maintainer', 'admin', 'chatbot')),
	department   TEXT NOT NULL DEFAULT '',
	token_hash   TEXT NOT NULL UNIQUE, -- SHA-256 of the token
	created_at   TEXT NOT NULL,
	last_used_at TEXT,
	revoked_at   TEXT
);

CREATE TABLE sessions (
	id_hash    TEXT PRIMARY KEY, -- SHA-256 of the cookie value
	user_id    INTEGER NOT NULL REFERENCES users(id),
	csrf_token TEXT NOT NULL,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
);
