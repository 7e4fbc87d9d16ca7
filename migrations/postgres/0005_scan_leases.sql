-- PostgreSQL's spelling of migrations/sqlite/0005_scan_leases.sql.
CREATE TABLE scan_leases (
    schedule    TEXT NOT NULL,
    tick        TEXT NOT NULL,
    holder      TEXT NOT NULL,
    lease_until TEXT NOT NULL,
    done        BIGINT NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    PRIMARY KEY (schedule, tick)
);
