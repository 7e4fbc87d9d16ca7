-- PostgreSQL's spelling of migrations/sqlite/0003_latest_report.sql.
CREATE TABLE latest_report (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    finished_at TEXT NOT NULL,
    body        TEXT NOT NULL
);
