//! Reports (`src/report/`): the table and markdown renderings (`render`, `insta`
//! snapshots).

mod render;
