-- pipeit schema, SQLite flavour. PostgreSQL has its own copy in migrations/postgres/ (same tables,
-- same column names, native types there).
--
-- Conventions (SQLite):
--   * STRICT tables: a value of the wrong type is an error, never silently coerced.
--   * wei amounts and chain integers above 2^63 (U256): TEXT holding the decimal digits, no sign,
--     no leading zeros ('0', '1', ...), never REAL.
--   * fiat amounts, rates, prices (rust_decimal::Decimal): TEXT holding the decimal string, never REAL.
--   * hashes and addresses: TEXT, '0x' + lowercase hex.
--   * timestamps: TEXT, RFC 3339 UTC with microseconds ('2026-01-02T03:04:05.000006Z'), so text order
--     is time order. Block timestamps and feed times: INTEGER unix seconds.
--   * JSON: TEXT checked with json_valid.

-- Chain index: one checkpoint per (chain, contract) indexed.
CREATE TABLE chain_checkpoint (
    chain_id     INTEGER NOT NULL CHECK (chain_id >= 0),
    contract     TEXT    NOT NULL CHECK (length(contract) = 42),
    block_number INTEGER NOT NULL CHECK (block_number >= 0),
    -- NULL after a rollback below the recorded block hashes.
    block_hash   TEXT    CHECK (length(block_hash) = 66),
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (chain_id, contract)
) STRICT;

-- Recent blocks (the reorg window): compared with the chain to find a common ancestor.
CREATE TABLE block_hashes (
    chain_id     INTEGER NOT NULL,
    contract     TEXT    NOT NULL,
    block_number INTEGER NOT NULL CHECK (block_number >= 0),
    block_hash   TEXT    NOT NULL CHECK (length(block_hash) = 66),
    parent_hash  TEXT    NOT NULL CHECK (length(parent_hash) = 66),
    PRIMARY KEY (chain_id, contract, block_number)
) STRICT;

CREATE TABLE vault_events (
    id           INTEGER PRIMARY KEY,
    chain_id     INTEGER NOT NULL,
    contract     TEXT    NOT NULL,
    block_number INTEGER NOT NULL CHECK (block_number >= 0),
    block_hash   TEXT    NOT NULL CHECK (length(block_hash) = 66),
    tx_hash      TEXT    NOT NULL CHECK (length(tx_hash) = 66),
    log_index    INTEGER NOT NULL CHECK (log_index >= 0),
    event_name   TEXT    NOT NULL,
    fields       TEXT    NOT NULL CHECK (json_valid(fields)),
    invoice_id   TEXT    CHECK (length(invoice_id) = 66),
    account      TEXT    CHECK (length(account) = 42),
    shares       TEXT    CHECK (length(shares) BETWEEN 1 AND 78 AND shares NOT GLOB '*[^0-9]*'),
    assets       TEXT    CHECK (length(assets) BETWEEN 1 AND 78 AND assets NOT GLOB '*[^0-9]*'),
    UNIQUE (chain_id, tx_hash, log_index)
) STRICT;
CREATE INDEX vault_events_by_block ON vault_events (chain_id, contract, block_number, log_index);
CREATE INDEX vault_events_by_invoice ON vault_events (invoice_id) WHERE invoice_id IS NOT NULL;
CREATE INDEX vault_events_by_account ON vault_events (account, block_number) WHERE account IS NOT NULL;

-- ETH/USD feed answer recorded at an indexed block (for fiat values in tax reports).
CREATE TABLE eth_usd_prices (
    chain_id     INTEGER NOT NULL,
    contract     TEXT    NOT NULL,
    block_number INTEGER NOT NULL CHECK (block_number >= 0),
    price        TEXT    NOT NULL,
    round_id     TEXT    NOT NULL CHECK (length(round_id) BETWEEN 1 AND 78 AND round_id NOT GLOB '*[^0-9]*'),
    updated_at   INTEGER NOT NULL CHECK (updated_at >= 0),
    PRIMARY KEY (chain_id, contract, block_number)
) STRICT;

CREATE TABLE share_price_history (
    chain_id     INTEGER NOT NULL,
    contract     TEXT    NOT NULL,
    block_number INTEGER NOT NULL CHECK (block_number >= 0),
    timestamp    INTEGER NOT NULL CHECK (timestamp >= 0),
    total_assets TEXT    NOT NULL CHECK (length(total_assets) BETWEEN 1 AND 78 AND total_assets NOT GLOB '*[^0-9]*'),
    total_supply TEXT    NOT NULL CHECK (length(total_supply) BETWEEN 1 AND 78 AND total_supply NOT GLOB '*[^0-9]*'),
    PRIMARY KEY (chain_id, contract, block_number)
) STRICT;

-- Off-chain records.
CREATE TABLE businesses (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL CHECK (length(trim(name)) > 0),
    payout_address TEXT NOT NULL CHECK (length(payout_address) = 42),
    created_at     TEXT NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    business_id  INTEGER NOT NULL REFERENCES businesses (id),
    prefix       TEXT    NOT NULL UNIQUE,
    key_hash     TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
) STRICT;
CREATE INDEX api_keys_by_business ON api_keys (business_id);

CREATE TABLE invoices (
    id              INTEGER PRIMARY KEY,
    business_id     INTEGER NOT NULL REFERENCES businesses (id),
    canonical_id    TEXT    NOT NULL UNIQUE CHECK (length(canonical_id) = 66),
    debtor_name     TEXT    NOT NULL,
    debtor_tax_id   TEXT    NOT NULL,
    debtor_country  TEXT    NOT NULL CHECK (length(debtor_country) = 2),
    invoice_number  TEXT    NOT NULL,
    currency        TEXT    NOT NULL CHECK (length(currency) = 3),
    amount          TEXT    NOT NULL,
    issue_date      TEXT    NOT NULL,
    due_date        TEXT    NOT NULL,
    document_hash   TEXT    CHECK (length(document_hash) = 66),
    status          TEXT    NOT NULL CHECK (status IN ('submitted', 'scored', 'advanced', 'repaid',
                        'overdue', 'written_off', 'withdrawn', 'declined')),
    advance_tx_hash TEXT    CHECK (length(advance_tx_hash) = 66),
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
) STRICT;
CREATE INDEX invoices_by_business ON invoices (business_id, id);
CREATE INDEX invoices_by_status ON invoices (status, id);

CREATE TABLE scores (
    id                     INTEGER PRIMARY KEY,
    invoice_id             INTEGER NOT NULL REFERENCES invoices (id),
    model_version          TEXT    NOT NULL,
    features               TEXT    NOT NULL CHECK (json_valid(features)),
    score                  INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    probability_of_default TEXT    NOT NULL,
    advance_rate           TEXT    NOT NULL,
    fee_rate               TEXT    NOT NULL,
    accepted               INTEGER NOT NULL CHECK (accepted IN (0, 1)),
    reasons                TEXT    NOT NULL CHECK (json_valid(reasons)),
    decided_at             TEXT    NOT NULL
) STRICT;
CREATE INDEX scores_by_invoice ON scores (invoice_id, id);

-- Transactions the keeper intends to send: recorded before sending, reconciled after.
CREATE TABLE tx_outbox (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL,
    intent_key TEXT    NOT NULL,
    payload    TEXT    NOT NULL CHECK (json_valid(payload)),
    nonce      INTEGER CHECK (nonce >= 0),
    status     TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'mined', 'failed', 'replaced')),
    tx_hash    TEXT    CHECK (length(tx_hash) = 66),
    error_name TEXT,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
) STRICT;
-- One live (or mined) transaction per intent: the same advance can never be queued twice.
CREATE UNIQUE INDEX tx_outbox_live_intent ON tx_outbox (intent_key)
    WHERE status IN ('pending', 'sent', 'mined');
CREATE INDEX tx_outbox_by_status ON tx_outbox (status, id);
