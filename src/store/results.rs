//! The latest result of every scope (`scope_results`), for `/report` and `driftd
//! report --from-store`: each scope's scan replaces that scope's row; a whole scan
//! replaces them all with its own (scope `""`), which the scopes' rows replace
//! once a run split by scope has stored every scope. Merging them is the report's business (`report::merge`).

use crate::report::ScopeResult;

use super::{Store, StoreError, begin_write};

impl Store {
    /// Keeps `result` as its scope's latest, unless a later one is kept already
    /// (replicas may store in either order).
    pub async fn keep_result(&self, result: &ScopeResult) -> Result<(), StoreError> {
        let body = serde_json::to_string(result).expect("a scope result serializes");
        let complete_at = result.complete.then_some(result.finished_at.as_str());
        let mut conn = self.pool.acquire().await?;
        let mut tx = begin_write(&mut conn, self.backend).await?;
        // A whole scan stands for every scope it read. A scope's result replaces
        // the whole one only once its run has stored every scope
        // (`forget_scopes_except`): until then the whole scan is what is known.
        if result.scope.is_empty() {
            sqlx::query("DELETE FROM scope_results WHERE scope <> ''")
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO scope_results (scope, finished_at, complete_at, body) VALUES ($1, $2, $3, $4)
             ON CONFLICT (scope) DO UPDATE SET finished_at = excluded.finished_at,
                 complete_at = coalesce(excluded.complete_at, scope_results.complete_at),
                 body = excluded.body
             WHERE excluded.finished_at >= scope_results.finished_at",
        )
        .bind(&result.scope)
        .bind(&result.finished_at)
        .bind(complete_at)
        .bind(body)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every scope's latest result: the latest whole scan's alone while one is
    /// kept (a run split by scope has not yet stored all its scopes since).
    pub async fn results(&self) -> Result<Vec<ScopeResult>, StoreError> {
        let bodies: Vec<(String, String)> = sqlx::query_as(
            "SELECT scope, body FROM scope_results
             WHERE scope = '' OR NOT EXISTS (SELECT 1 FROM scope_results WHERE scope = '')
             ORDER BY scope",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::from(e).naming(&self.path))?;
        bodies
            .into_iter()
            .map(|(scope, body)| {
                serde_json::from_str(&body)
                    .map_err(|e| StoreError::Corrupt(format!("the result of scope {scope:?}: {e}")))
            })
            .collect()
    }

    /// The scope whose latest complete result is the oldest, and when that result
    /// finished (`None` for a scope never complete): what `/readyz` judges.
    pub async fn stalest_scope(&self) -> Result<Option<(String, Option<String>)>, StoreError> {
        sqlx::query_as(
            "SELECT scope, complete_at FROM scope_results WHERE scope <> ''
             ORDER BY coalesce(complete_at, ''), scope LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| StoreError::from(e).naming(&self.path))
    }

    /// After a run split by scope stored every scope: forgets the whole scan's
    /// result and those of scopes the run no longer reads (an account or region
    /// taken out of the config), so that they neither show nor age.
    pub async fn forget_scopes_except(&self, scopes: &[String]) -> Result<u64, StoreError> {
        let kept: Vec<String> = self.results_scopes().await?;
        let mut forgotten = 0;
        for scope in kept.iter().filter(|s| !scopes.contains(s)) {
            forgotten += sqlx::query("DELETE FROM scope_results WHERE scope = $1")
                .bind(scope)
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        Ok(forgotten)
    }

    async fn results_scopes(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT scope FROM scope_results")
            .fetch_all(&self.pool)
            .await?)
    }
}
