//! Throwaway PostgreSQL databases for tests and benchmarks: `CREATE DATABASE <prefix>_<unique>` on a server,
//! dropped (`WITH (FORCE)`) when the guard goes away, even after a panic. One place for what the db tests,
//! the TestStack and the index benchmark all need.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor, PgConnection};

/// A fresh database on the server of `admin_url`; dropped with the guard.
#[derive(Debug)]
pub struct ScratchDatabase {
    /// URL of the new database (the admin URL with its database name replaced).
    pub url: String,
    admin_url: String,
    name: String,
}

impl ScratchDatabase {
    /// Creates `<prefix>_<pid>_<n>_<nanos>` on the server of `admin_url`.
    pub async fn create(admin_url: &str, prefix: &str) -> Result<ScratchDatabase, sqlx::Error> {
        let name = unique_name(prefix);
        let mut admin = PgConnection::connect(admin_url).await?;
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        admin.close().await?;
        Ok(ScratchDatabase {
            url: with_database(admin_url, &name),
            admin_url: admin_url.to_string(),
            name,
        })
    }
}

impl Drop for ScratchDatabase {
    #[allow(clippy::print_stderr)] // a test/bench helper: nobody else would see a leaked database
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside a test's runtime: use a thread with its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url)
                    .await
                    .map_err(std::io::Error::other)?;
                admin
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .map_err(std::io::Error::other)?;
                admin.close().await.map_err(std::io::Error::other)
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!(
                "could not drop scratch database {}: {dropped:?}",
                crate::redact(&self.url)
            );
        }
    }
}

fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// `postgres://user@host:port/other?x=y` → `postgres://user@host:port/<database>?x=y`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{database}{query}", &base[..authority_end])
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn with_database_replaces_only_the_name() {
        assert_eq!(
            with_database("postgres://u@h:5/postgres?sslmode=disable", "t_1"),
            "postgres://u@h:5/t_1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h:5", "t_1"),
            "postgres://u@h:5/t_1"
        );
    }
}
