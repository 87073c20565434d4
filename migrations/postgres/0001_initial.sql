-- pipeit schema, PostgreSQL flavour. SQLite has its own copy in migrations/sqlite/ (same tables,
-- same column names).
--
-- Conventions (PostgreSQL):
--   * wei amounts and other uint256 values: NUMERIC(78, 0) (2^256 - 1 has 78 digits), never float.
--   * fiat amounts, rates, prices (rust_decimal::Decimal): NUMERIC.
--   * hashes and addresses: TEXT, '0x' + lowercase hex.
--   * timestamps: TIMESTAMPTZ. Block timestamps and feed times: BIGINT unix seconds.
--   * JSON: JSONB.

-- Chain index: one checkpoint per (chain, contract) indexed.
CREATE TABLE chain_checkpoint (
    chain_id     BIGINT      NOT NULL CHECK (chain_id >= 0),
    contract     TEXT        NOT NULL CHECK (length(contract) = 42),
    block_number BIGINT      NOT NULL CHECK (block_number >= 0),
    -- NULL after a rollback below the recorded block hashes.
    block_hash   TEXT        CHECK (length(block_hash) = 66),
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (chain_id, contract)
);

-- Recent blocks (the reorg window): compared with the chain to find a common ancestor.
CREATE TABLE block_hashes (
    chain_id     BIGINT NOT NULL,
    contract     TEXT   NOT NULL,
    block_number BIGINT NOT NULL CHECK (block_number >= 0),
    block_hash   TEXT   NOT NULL CHECK (length(block_hash) = 66),
    parent_hash  TEXT   NOT NULL CHECK (length(parent_hash) = 66),
    PRIMARY KEY (chain_id, contract, block_number)
);

CREATE TABLE vault_events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chain_id     BIGINT        NOT NULL,
    contract     TEXT          NOT NULL,
    block_number BIGINT        NOT NULL CHECK (block_number >= 0),
    block_hash   TEXT          NOT NULL CHECK (length(block_hash) = 66),
    tx_hash      TEXT          NOT NULL CHECK (length(tx_hash) = 66),
    log_index    BIGINT        NOT NULL CHECK (log_index >= 0),
    event_name   TEXT          NOT NULL,
    fields       JSONB         NOT NULL,
    invoice_id   TEXT          CHECK (length(invoice_id) = 66),
    account      TEXT          CHECK (length(account) = 42),
    shares       NUMERIC(78, 0) CHECK (shares >= 0),
    assets       NUMERIC(78, 0) CHECK (assets >= 0),
    UNIQUE (chain_id, tx_hash, log_index)
);
CREATE INDEX vault_events_by_block ON vault_events (chain_id, contract, block_number, log_index);
CREATE INDEX vault_events_by_invoice ON vault_events (invoice_id) WHERE invoice_id IS NOT NULL;
CREATE INDEX vault_events_by_account ON vault_events (account, block_number) WHERE account IS NOT NULL;

-- ETH/USD feed answer recorded at an indexed block (for fiat values in tax reports).
CREATE TABLE eth_usd_prices (
    chain_id     BIGINT         NOT NULL,
    contract     TEXT           NOT NULL,
    block_number BIGINT         NOT NULL CHECK (block_number >= 0),
    price        NUMERIC        NOT NULL,
    round_id     NUMERIC(78, 0) NOT NULL CHECK (round_id >= 0),
    updated_at   BIGINT         NOT NULL CHECK (updated_at >= 0),
    PRIMARY KEY (chain_id, contract, block_number)
);

CREATE TABLE share_price_history (
    chain_id     BIGINT         NOT NULL,
    contract     TEXT           NOT NULL,
    block_number BIGINT         NOT NULL CHECK (block_number >= 0),
    timestamp    BIGINT         NOT NULL CHECK (timestamp >= 0),
    total_assets NUMERIC(78, 0) NOT NULL CHECK (total_assets >= 0),
    total_supply NUMERIC(78, 0) NOT NULL CHECK (total_supply >= 0),
    PRIMARY KEY (chain_id, contract, block_number)
);

-- Off-chain records.
CREATE TABLE businesses (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           TEXT        NOT NULL CHECK (length(trim(name)) > 0),
    payout_address TEXT        NOT NULL CHECK (length(payout_address) = 42),
    created_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    business_id  BIGINT      NOT NULL REFERENCES businesses (id),
    prefix       TEXT        NOT NULL UNIQUE,
    key_hash     TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_keys_by_business ON api_keys (business_id);

CREATE TABLE invoices (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    business_id     BIGINT      NOT NULL REFERENCES businesses (id),
    canonical_id    TEXT        NOT NULL UNIQUE CHECK (length(canonical_id) = 66),
    debtor_name     TEXT        NOT NULL,
    debtor_tax_id   TEXT        NOT NULL,
    debtor_country  TEXT        NOT NULL CHECK (length(debtor_country) = 2),
    invoice_number  TEXT        NOT NULL,
    currency        TEXT        NOT NULL CHECK (length(currency) = 3),
    amount          NUMERIC     NOT NULL,
    issue_date      DATE        NOT NULL,
    due_date        DATE        NOT NULL,
    document_hash   TEXT        CHECK (length(document_hash) = 66),
    status          TEXT        NOT NULL CHECK (status IN ('submitted', 'scored', 'advanced', 'repaid',
                        'overdue', 'written_off', 'withdrawn', 'declined')),
    advance_tx_hash TEXT        CHECK (length(advance_tx_hash) = 66),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX invoices_by_business ON invoices (business_id, id);
CREATE INDEX invoices_by_status ON invoices (status, id);

CREATE TABLE scores (
    id                     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id             BIGINT      NOT NULL REFERENCES invoices (id),
    model_version          TEXT        NOT NULL,
    features               JSONB       NOT NULL,
    score                  INTEGER     NOT NULL CHECK (score BETWEEN 0 AND 100),
    probability_of_default NUMERIC     NOT NULL,
    advance_rate           NUMERIC     NOT NULL,
    fee_rate               NUMERIC     NOT NULL,
    accepted               BOOLEAN     NOT NULL,
    reasons                JSONB       NOT NULL,
    decided_at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX scores_by_invoice ON scores (invoice_id, id);

-- Transactions the keeper intends to send: recorded before sending, reconciled after.
CREATE TABLE tx_outbox (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT        NOT NULL,
    intent_key TEXT        NOT NULL,
    payload    JSONB       NOT NULL,
    nonce      BIGINT      CHECK (nonce >= 0),
    status     TEXT        NOT NULL CHECK (status IN ('pending', 'sent', 'mined', 'failed', 'replaced')),
    tx_hash    TEXT        CHECK (length(tx_hash) = 66),
    error_name TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
-- One live (or mined) transaction per intent: the same advance can never be queued twice.
CREATE UNIQUE INDEX tx_outbox_live_intent ON tx_outbox (intent_key)
    WHERE status IN ('pending', 'sent', 'mined');
CREATE INDEX tx_outbox_by_status ON tx_outbox (status, id);
