-- Notifications (issue 7): written in the same transaction as the scan that caused
-- them, delivered afterwards with retries. Webhook URLs are not stored here (they
-- are secrets); a row names its channel and the URL comes from the config.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    scan_id         TEXT NOT NULL,
    channel         TEXT NOT NULL CHECK (channel IN ('slack', 'webhook')),
    payload         TEXT NOT NULL,      -- the exact JSON body to POST
    created_at      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    delivered_at    TEXT
);

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
