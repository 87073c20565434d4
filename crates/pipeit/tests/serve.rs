//! `pipeit business` and `pipeit serve` as real processes: two replicas on one PostgreSQL database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use pipeit_testkit::TestStack;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn pipeit(stack: &TestStack, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pipeit"));
    command
        .args(args)
        .env("PIPEIT_RPC_URL", &stack.rpc_url)
        .env("PIPEIT_MANIFEST", &stack.manifest_path)
        .env("PIPEIT_DATABASE_URL", &stack.db_url)
        .env("PIPEIT_LOG", "warn");
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Replica {
    child: Child,
    port: u16,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_replica(stack: &TestStack) -> Replica {
    let port = free_port();
    let child = pipeit(stack, &["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Owned by the guard at once: killed and reaped whatever happens next.
    let replica = Replica { child, port };
    for _ in 0..200 {
        if let Ok((200, _)) = http(port, "GET", "/readyz", &[], None).await {
            return replica;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("pipeit serve on port {port} did not become ready");
}

/// One HTTP/1.1 request over a fresh connection: (status, JSON body).
async fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> std::io::Result<(u16, Value)> {
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    socket.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    socket.read_to_string(&mut response).await?;
    let status = response[9..12].parse().unwrap_or(0);
    let payload = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    Ok((status, serde_json::from_str(payload).unwrap_or(Value::Null)))
}

fn invoice() -> Value {
    let today = pipeit_testkit::chain_start_date();
    json!({
        "debtor": { "name": "Acme Inc.", "registration_id": "12-3456789", "country": "US" },
        "invoice_number": "R-1",
        "currency": "USD",
        "amount": "900.00",
        "issue_date": (today - chrono::Duration::days(1)).to_string(),
        "due_date": (today + chrono::Duration::days(30)).to_string(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_postgres_database_act_as_one_service() {
    let Some(stack) = TestStack::start_postgres().await else {
        assert_eq!(
            std::env::var("PIPEIT_SKIP_PG").as_deref(),
            Ok("1"),
            "set PIPEIT_TEST_PG_URL or PIPEIT_SKIP_PG=1"
        );
        return;
    };
    // Onboarding from the terminal: the key is printed once, as JSON for scripts.
    let out = pipeit(
        &stack,
        &["business", "add", "--name", "Northwind Ltd", "--json"],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let added: Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = added["api_key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("pk_"));
    let listed = pipeit(&stack, &["business", "list"]).output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("Northwind Ltd") && !listed.contains(&key),
        "the secret is never listed: {listed}"
    );

    let a = start_replica(&stack).await;
    let b = start_replica(&stack).await;
    let auth = format!("Bearer {key}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Idempotency-Key", "same-key"),
    ];

    // The same submission to both replicas at once: one invoice, and both answer with it (the
    // request that lost the race inside the database replays the winner's answer).
    let body = invoice();
    let (ra, rb) = tokio::join!(
        http(a.port, "POST", "/v1/invoices", &headers, Some(&body)),
        http(b.port, "POST", "/v1/invoices", &headers, Some(&body)),
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!((ra.0, rb.0), (201, 201), "{ra:?} {rb:?}");
    assert_eq!(ra.1, rb.1, "both replicas give the first answer");
    assert_eq!(stack.db.list_invoices(None, None).await.unwrap().len(), 1);
    // A retry on either replica replays the stored answer.
    let retry = http(b.port, "POST", "/v1/invoices", &headers, Some(&body))
        .await
        .unwrap();
    assert_eq!(retry, ra);

    // A nonce issued by one replica is usable once, on the other.
    let issued = http(a.port, "POST", "/v1/auth/nonce", &[], None)
        .await
        .unwrap()
        .1;
    let nonce = issued["nonce"].as_str().unwrap();
    // Consumed a second before the expiry the replica gave it (its clock, not the test's).
    let expires_at: chrono::DateTime<chrono::Utc> = issued["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        stack
            .db
            .consume_nonce(nonce, expires_at - chrono::Duration::seconds(1))
            .await
            .unwrap(),
        "stored in the shared database"
    );

    // Revoked from the terminal: both replicas refuse the key.
    let prefix = added["key_prefix"].as_str().unwrap();
    let revoked = pipeit(&stack, &["business", "revoke-key", "--prefix", prefix])
        .output()
        .unwrap();
    assert!(revoked.status.success());
    for port in [a.port, b.port] {
        let (status, reply) = http(port, "GET", "/v1/invoices", &headers[..1], None)
            .await
            .unwrap();
        assert_eq!(status, 401, "{reply}");
    }
    let unknown = pipeit(&stack, &["business", "revoke-key", "--prefix", "nope"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("pipeit business list"));
}
