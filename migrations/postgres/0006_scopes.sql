-- PostgreSQL's spelling of migrations/sqlite/0006_scopes.sql.
ALTER TABLE scans ADD COLUMN scope TEXT;
ALTER TABLE findings ADD COLUMN scope TEXT;

CREATE INDEX scans_by_scope ON scans (scope, finished_at);

DROP TABLE scan_leases;
CREATE TABLE scan_leases (
    schedule    TEXT NOT NULL,
    tick        TEXT NOT NULL,
    scope       TEXT NOT NULL DEFAULT '',
    holder      TEXT NOT NULL,
    lease_until TEXT NOT NULL,
    done        BIGINT NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    PRIMARY KEY (schedule, tick, scope)
);

CREATE TABLE scope_results (
    scope       TEXT PRIMARY KEY NOT NULL,
    finished_at TEXT NOT NULL,
    complete_at TEXT,
    body        TEXT NOT NULL
);
