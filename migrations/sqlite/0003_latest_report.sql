-- The latest report, whole (issue 20): a restarted `serve` answers /report with it
-- until its own first scan, instead of 503. One row: only the newest report (by
-- when its scan finished) is kept; every scan's data stays in `scans` and `findings`.
CREATE TABLE latest_report (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    finished_at TEXT NOT NULL,          -- RFC 3339, UTC, milliseconds: sorts as text
    body        TEXT NOT NULL           -- report.schema.json
);
