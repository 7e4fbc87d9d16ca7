-- Scan history (issue 5). Snapshots are content-addressed: a scan row points at the
-- root of a small hash tree (root -> buckets -> one node per security group), so an
-- unchanged scan adds one `scans` row and nothing else, and a changed rule adds one
-- group node, one bucket and one root.

-- Every stored document, keyed by the SHA-256 of its canonical encoding.
CREATE TABLE blobs (
    hash BLOB PRIMARY KEY NOT NULL,
    body BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE scans (
    id          INTEGER PRIMARY KEY,
    scan_id     TEXT NOT NULL UNIQUE,
    started_at  TEXT NOT NULL,          -- RFC 3339, UTC, milliseconds: sorts as text
    finished_at TEXT NOT NULL,
    complete    INTEGER NOT NULL CHECK (complete IN (0, 1)),
    sources     BLOB NOT NULL REFERENCES blobs (hash),   -- JSON list of source statuses
    api_calls   TEXT NOT NULL,          -- JSON object, "service:Operation" -> calls
    intent_root BLOB NOT NULL REFERENCES blobs (hash),
    live_root   BLOB NOT NULL REFERENCES blobs (hash),
    findings    INTEGER NOT NULL        -- findings in this scan's report
);

CREATE INDEX scans_by_finish ON scans (finished_at);

-- One row per finding id, updated in place: the lifecycle, not a log.
CREATE TABLE findings (
    id          TEXT PRIMARY KEY NOT NULL,
    code        TEXT NOT NULL,
    group_id    TEXT,
    status      TEXT NOT NULL CHECK (status IN ('new', 'ongoing', 'resolved')),
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    resolved_at TEXT,
    recurrences INTEGER NOT NULL DEFAULT 0,
    fingerprint BLOB NOT NULL,          -- hash of the finding's values, to notice changes
    body        TEXT NOT NULL           -- the finding as last reported (report JSON shape)
) WITHOUT ROWID;

CREATE INDEX findings_open ON findings (status) WHERE status <> 'resolved';

-- What happened to which finding in which scan: only transitions, so an unchanged
-- scan adds nothing here. Notifications (issue 7) are built from these.
CREATE TABLE finding_events (
    scan_id    INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    finding_id TEXT NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    event      TEXT NOT NULL CHECK (event IN ('new', 'changed', 'recurred', 'resolved')),
    PRIMARY KEY (scan_id, finding_id)
) WITHOUT ROWID;

CREATE INDEX finding_events_by_finding ON finding_events (finding_id);
