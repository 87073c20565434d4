-- The keeper (issue 7): what scoring learns from, decisions it keeps, signals and rebalancing.
-- Same tables and columns as migrations/sqlite/0004_keeper.sql, native types.

-- Debtors are compared across businesses by country and normalised tax id (uppercase, without
-- spaces, dashes and dots; pipeit_core::normalize_tax_id does the same for ASCII ids).
CREATE INDEX invoices_by_debtor ON invoices (debtor_country,
    upper(replace(replace(replace(replace(debtor_tax_id, ' ', ''), chr(9), ''), '-', ''), '.', '')));
CREATE INDEX invoices_by_currency_status ON invoices (currency, status);

CREATE TABLE invoice_outcomes (
    invoice_id  BIGINT      PRIMARY KEY REFERENCES invoices (id),
    outcome     TEXT        NOT NULL CHECK (outcome IN ('on_time', 'late', 'defaulted')),
    days_late   BIGINT      NOT NULL CHECK (days_late >= 0),
    recorded_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE manual_reviews (
    invoice_id  BIGINT      PRIMARY KEY REFERENCES invoices (id),
    assessment  JSONB       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    resolved_at TIMESTAMPTZ
);

CREATE TABLE market_signals (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      TEXT        NOT NULL,
    as_of       TIMESTAMPTZ NOT NULL,
    risk        NUMERIC     NOT NULL,
    trend       NUMERIC     NOT NULL,
    summary     TEXT        NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX market_signals_by_source ON market_signals (source, id);

CREATE TABLE signal_cache (
    cache_key  TEXT        PRIMARY KEY,
    body       JSONB       NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE rebalance_decisions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    decided_at TIMESTAMPTZ NOT NULL,
    inputs     JSONB       NOT NULL,
    target     JSONB       NOT NULL,
    actions    JSONB       NOT NULL,
    acted      BOOLEAN     NOT NULL,
    reasons    JSONB       NOT NULL
);

CREATE TABLE keeper_state (
    key        TEXT        PRIMARY KEY,
    value      TEXT        NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
