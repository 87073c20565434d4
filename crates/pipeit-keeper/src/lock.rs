//! One keeper at a time: a PostgreSQL advisory lock, or an exclusive lock on a file next to the
//! SQLite database. Both are released by the operating system or the server when the process dies.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;

use pipeit_db::keeper::AdvisoryLock;
use pipeit_db::Db;

use crate::Error;

/// The advisory lock key: "pipeit-keeper" folded into 63 bits.
pub const ADVISORY_KEY: i64 = 0x7069_7065_6974_6b70;

/// A held lock.
#[derive(Debug)]
pub enum KeeperLock {
    /// PostgreSQL session lock.
    Postgres(AdvisoryLock),
    /// Exclusive lock on this file.
    File(File, PathBuf),
    /// An in-memory SQLite database is private to this process: nothing to share.
    Private,
}

/// Tries to become the acting keeper; `Ok(None)` when another keeper holds the lock.
pub async fn try_acquire(db: &Db, database_url: &str) -> Result<Option<KeeperLock>, Error> {
    match db {
        Db::Postgres(_) => Ok(db
            .try_advisory_lock(ADVISORY_KEY)
            .await?
            .map(KeeperLock::Postgres)),
        Db::Sqlite(_) => {
            let Some(path) = sqlite_lock_path(database_url) else {
                return Ok(Some(KeeperLock::Private));
            };
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| Error::Lock(format!("{}: {e}", path.display())))?;
            match file.try_lock() {
                Ok(()) => Ok(Some(KeeperLock::File(file, path))),
                Err(TryLockError::WouldBlock) => Ok(None),
                Err(TryLockError::Error(e)) => Err(Error::Lock(format!("{}: {e}", path.display()))),
            }
        }
    }
}

/// `<database file>.keeper.lock`, or `None` for an in-memory database.
fn sqlite_lock_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path.starts_with(":memory:") || url.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(format!("{path}.keeper.lock")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::sqlite_lock_path;

    #[test]
    fn lock_file_sits_next_to_the_database() {
        assert_eq!(
            sqlite_lock_path("sqlite://data/pipeit.db?mode=rwc").unwrap(),
            std::path::PathBuf::from("data/pipeit.db.keeper.lock")
        );
        assert!(sqlite_lock_path("sqlite::memory:").is_none());
    }
}
