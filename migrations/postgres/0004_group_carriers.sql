-- PostgreSQL's spelling of migrations/sqlite/0004_group_carriers.sql.
CREATE TABLE group_carriers (
    group_id   TEXT PRIMARY KEY,
    carried_by TEXT NOT NULL,
    last_seen  TEXT NOT NULL
);
