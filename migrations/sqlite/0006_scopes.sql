-- Scan by scope (issue 23): `serve` replicas on one database split each run by
-- account × region. Each scope is scanned, stored and resolved on its own.
--
-- Which scope a scan read, and which scope last raised a finding: a scope's scan
-- resolves only what that scope raised, and is stale only against that scope's
-- newer scans. NULL: a whole scan (every scope it read at once).
ALTER TABLE scans ADD COLUMN scope TEXT;
ALTER TABLE findings ADD COLUMN scope TEXT;

CREATE INDEX scans_by_scope ON scans (scope, finished_at);

-- Leases per scope of a run: replicas take a run's scopes one at a time. `scope`
-- is '' for a run scanned whole. The old table held no scope; its rows are leases
-- of past runs only.
DROP TABLE scan_leases;
CREATE TABLE scan_leases (
    schedule    TEXT NOT NULL,          -- the schedule's cron expression
    tick        TEXT NOT NULL,          -- the run's planned time (RFC 3339), or `start …`
    scope       TEXT NOT NULL DEFAULT '',  -- `account/region`, or '' for the whole run
    holder      TEXT NOT NULL,          -- the replica that scans it
    lease_until TEXT NOT NULL,          -- RFC 3339: after it, another replica may take it
    done        INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    PRIMARY KEY (schedule, tick, scope)
);

-- The latest result of every scope, for `/report` and `report --from-store`: one
-- row per scope (`account/region`), or one row '' for a whole scan, which replaces
-- the scopes' rows (and a scope's result replaces the whole one).
CREATE TABLE scope_results (
    scope       TEXT PRIMARY KEY NOT NULL,
    finished_at TEXT NOT NULL,          -- RFC 3339, UTC, milliseconds: sorts as text
    complete_at TEXT,                   -- when its latest complete result finished
    body        TEXT NOT NULL           -- report::ScopeResult as JSON
);
