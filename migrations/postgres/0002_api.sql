-- HTTP service: idempotent submissions, sign-in nonces, investor sessions, payout-address proofs.
-- A business's payout address is the zero address until a message signed by the new address sets it.

-- The first response to an Idempotency-Key, replayed for the same request (same body hash).
CREATE TABLE idempotency_keys (
    business_id  BIGINT      NOT NULL REFERENCES businesses (id),
    key          TEXT        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash TEXT        NOT NULL CHECK (length(request_hash) = 66),
    status_code  INTEGER     NOT NULL CHECK (status_code BETWEEN 100 AND 599),
    response     JSONB       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (business_id, key)
);

-- One-use nonces for Sign-In with Ethereum and for payout-address messages.
CREATE TABLE auth_nonces (
    nonce      TEXT        NOT NULL PRIMARY KEY CHECK (length(nonce) BETWEEN 8 AND 64),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);

-- Investor sessions: only a hash of the bearer token is kept.
CREATE TABLE investor_sessions (
    token_hash TEXT        NOT NULL PRIMARY KEY CHECK (length(token_hash) = 66),
    address    TEXT        NOT NULL CHECK (length(address) = 42),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- Every payout-address change with the signed message that authorised it (audit trail).
CREATE TABLE payout_address_changes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    business_id BIGINT      NOT NULL REFERENCES businesses (id),
    address     TEXT        NOT NULL CHECK (length(address) = 42),
    message     TEXT        NOT NULL,
    signature   TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX payout_address_changes_by_business ON payout_address_changes (business_id, id);
