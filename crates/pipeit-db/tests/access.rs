//! The HTTP service's storage (idempotency, nonces, sessions, payout addresses), on both back-ends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_primitives::{Address, B256};
use chrono::{Duration, TimeZone, Utc};
use pipeit_db::{Error, Idempotent, StoredResponse};
use serde_json::json;

use common::{invoice_record, TestDb};

on_both_backends!(
    idempotent_submission_stores_once_and_replays,
    idempotent_key_reused_for_another_request_writes_nothing,
    idempotent_duplicate_invoice_writes_neither_invoice_nor_key,
    nonce_is_used_once_and_not_after_expiry,
    session_is_found_until_it_expires,
    payout_address_change_is_recorded_with_its_message,
);

fn created(invoice: &pipeit_db::Invoice) -> StoredResponse {
    StoredResponse {
        status_code: 201,
        body: json!({ "id": invoice.id }),
    }
}

async fn idempotent_submission_stores_once_and_replays(t: &TestDb) {
    let business = t.db.insert_business("B", Address::ZERO).await.unwrap();
    let record = invoice_record("INV-1");
    let hash = B256::repeat_byte(1);
    let first =
        t.db.insert_invoice_idempotent(business.id, "k-1", hash, &record, created)
            .await
            .unwrap();
    let Idempotent::Created(invoice, response) = first else {
        panic!("expected Created, got {first:?}")
    };
    assert_eq!(response.body, json!({ "id": invoice.id }));
    let again =
        t.db.insert_invoice_idempotent(business.id, "k-1", hash, &record, |_| {
            panic!("a replay must not render a new response")
        })
        .await
        .unwrap();
    assert_eq!(again, Idempotent::Replayed(response));
    assert_eq!(t.count("invoices").await, 1);
    assert_eq!(t.count("idempotency_keys").await, 1);
}

async fn idempotent_key_reused_for_another_request_writes_nothing(t: &TestDb) {
    let business = t.db.insert_business("B", Address::ZERO).await.unwrap();
    t.db.insert_invoice_idempotent(
        business.id,
        "k",
        B256::repeat_byte(1),
        &invoice_record("INV-1"),
        created,
    )
    .await
    .unwrap();
    let other =
        t.db.insert_invoice_idempotent(
            business.id,
            "k",
            B256::repeat_byte(2),
            &invoice_record("INV-2"),
            created,
        )
        .await
        .unwrap();
    assert_eq!(other, Idempotent::KeyReused);
    assert_eq!(t.count("invoices").await, 1);

    // Keys are per business: another business may use the same key.
    let second = t.db.insert_business("C", Address::ZERO).await.unwrap();
    let theirs =
        t.db.insert_invoice_idempotent(
            second.id,
            "k",
            B256::repeat_byte(2),
            &invoice_record("INV-2"),
            created,
        )
        .await
        .unwrap();
    assert!(matches!(theirs, Idempotent::Created(..)), "{theirs:?}");
}

async fn idempotent_duplicate_invoice_writes_neither_invoice_nor_key(t: &TestDb) {
    let business = t.db.insert_business("B", Address::ZERO).await.unwrap();
    let record = invoice_record("INV-1");
    t.db.insert_invoice(business.id, &record).await.unwrap();
    let error =
        t.db.insert_invoice_idempotent(business.id, "k", B256::repeat_byte(1), &record, created)
            .await
            .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Conflict {
                what: "invoice",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(t.count("invoices").await, 1);
    assert_eq!(t.count("idempotency_keys").await, 0);
}

async fn nonce_is_used_once_and_not_after_expiry(t: &TestDb) {
    let now = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 0).unwrap();
    let later = now + Duration::minutes(5);
    t.db.insert_nonce("nonce-live-1", now, later).await.unwrap();
    assert!(t.db.consume_nonce("nonce-live-1", now).await.unwrap());
    assert!(
        !t.db.consume_nonce("nonce-live-1", now).await.unwrap(),
        "reused"
    );
    assert!(
        !t.db.consume_nonce("nonce-unknown", now).await.unwrap(),
        "unknown"
    );
    t.db.insert_nonce("nonce-expires", now, later).await.unwrap();
    assert!(
        !t.db.consume_nonce("nonce-expires", later).await.unwrap(),
        "expired at its expiry time"
    );
    assert!(
        t.db.consume_nonce("nonce-expires", later - Duration::seconds(1))
            .await
            .unwrap(),
        "live a second before"
    );
}

async fn session_is_found_until_it_expires(t: &TestDb) {
    let wallet = Address::repeat_byte(7);
    let live = B256::repeat_byte(1);
    let expired = B256::repeat_byte(2);
    let now = Utc.with_ymd_and_hms(2028, 2, 29, 12, 0, 0).unwrap();
    let ends = now + Duration::hours(1);
    let earlier = now - Duration::hours(2);
    t.db.insert_session(live, wallet, now, ends).await.unwrap();
    t.db.insert_session(expired, wallet, earlier, now - Duration::seconds(1))
        .await
        .unwrap();
    let session = t.db.session(live, now).await.unwrap().expect("live session");
    assert_eq!(session.address, wallet);
    assert!(t.db.session(live, ends).await.unwrap().is_none(), "ended");
    assert!(t.db.session(expired, now).await.unwrap().is_none());
    assert!(t.db.session(B256::repeat_byte(3), now).await.unwrap().is_none());
}

async fn payout_address_change_is_recorded_with_its_message(t: &TestDb) {
    let business = t.db.insert_business("B", Address::ZERO).await.unwrap();
    let to = Address::repeat_byte(9);
    let updated =
        t.db.set_payout_address(business.id, to, "message", "0xsig")
            .await
            .unwrap();
    assert_eq!(updated.payout_address, to);
    assert_eq!(t.count("payout_address_changes").await, 1);

    let zero =
        t.db.set_payout_address(business.id, Address::ZERO, "m", "0xsig")
            .await
            .unwrap_err();
    assert!(matches!(zero, Error::InvalidInput { .. }), "{zero}");
    let unknown =
        t.db.set_payout_address(999, to, "m", "0xsig")
            .await
            .unwrap_err();
    assert!(matches!(unknown, Error::NotFound { .. }), "{unknown}");
    assert_eq!(t.count("payout_address_changes").await, 1);
}
