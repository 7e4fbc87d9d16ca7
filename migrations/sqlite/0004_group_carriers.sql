-- What last carried each group (issue 21): a reference-empty finding says what
-- carried the group nothing carries now, and until when ("carried by ELB app/web
-- until …"). One row per group ever seen carried, updated in place: unchanged scans
-- do not grow it.
CREATE TABLE group_carriers (
    group_id   TEXT PRIMARY KEY,
    carried_by TEXT NOT NULL,           -- JSON list of carrier labels, sorted
    last_seen  TEXT NOT NULL            -- finished_at of the last scan that saw them
);
