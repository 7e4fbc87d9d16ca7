-- Replicas sharing the schedule (issue 23): each run of a schedule (its planned
-- time, the "tick") is scanned by one `serve` replica, which holds a lease on it
-- and renews it while scanning. A replica that dies loses the lease when it runs
-- out, and another one scans that tick. `done` once stored.
CREATE TABLE scan_leases (
    schedule    TEXT NOT NULL,          -- the schedule's cron expression
    tick        TEXT NOT NULL,          -- the run's planned time (RFC 3339), or `start …`
    holder      TEXT NOT NULL,          -- the replica that scans it
    lease_until TEXT NOT NULL,          -- RFC 3339: after it, another replica may take it
    done        INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    PRIMARY KEY (schedule, tick)
);
