-- The keeper (issue 7): what scoring learns from, decisions it keeps, signals and rebalancing.
-- Same conventions as 0001 (STRICT; wei and decimals as TEXT; timestamps RFC 3339 TEXT).

-- Debtors are compared across businesses by country and normalised tax id (uppercase, without
-- spaces, dashes and dots; pipeit_core::normalize_tax_id does the same for ASCII ids).
CREATE INDEX invoices_by_debtor ON invoices (debtor_country,
    upper(replace(replace(replace(replace(debtor_tax_id, ' ', ''), char(9), ''), '-', ''), '.', '')));
CREATE INDEX invoices_by_currency_status ON invoices (currency, status);

-- How a financed invoice ended: teaches the next scores of its business and its debtor.
CREATE TABLE invoice_outcomes (
    invoice_id  INTEGER PRIMARY KEY REFERENCES invoices (id),
    outcome     TEXT    NOT NULL CHECK (outcome IN ('on_time', 'late', 'defaulted')),
    days_late   INTEGER NOT NULL CHECK (days_late >= 0),
    recorded_at TEXT    NOT NULL
) STRICT;

-- Invoices a person must look at before anything is advanced (the full assessment as decided).
CREATE TABLE manual_reviews (
    invoice_id  INTEGER PRIMARY KEY REFERENCES invoices (id),
    assessment  TEXT    NOT NULL CHECK (json_valid(assessment)),
    created_at  TEXT    NOT NULL,
    resolved_at TEXT
) STRICT;

-- Market signals read by the keeper, whatever the source.
CREATE TABLE market_signals (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    as_of       TEXT    NOT NULL,
    risk        TEXT    NOT NULL,
    trend       TEXT    NOT NULL,
    summary     TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL
) STRICT;
CREATE INDEX market_signals_by_source ON market_signals (source, id);

-- Responses of the Token Metrics API, cached (and counted against the quota).
CREATE TABLE signal_cache (
    cache_key  TEXT    PRIMARY KEY,
    body       TEXT    NOT NULL CHECK (json_valid(body)),
    fetched_at TEXT    NOT NULL
) STRICT;

-- Every rebalancing decision, acted on or not, with its reasons.
CREATE TABLE rebalance_decisions (
    id         INTEGER PRIMARY KEY,
    decided_at TEXT    NOT NULL,
    inputs     TEXT    NOT NULL CHECK (json_valid(inputs)),
    target     TEXT    NOT NULL CHECK (json_valid(target)),
    actions    TEXT    NOT NULL CHECK (json_valid(actions)),
    acted      INTEGER NOT NULL CHECK (acted IN (0, 1)),
    reasons    TEXT    NOT NULL CHECK (json_valid(reasons))
) STRICT;

-- Small keeper facts that must survive a restart (last rebalance, quota use, ...).
CREATE TABLE keeper_state (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
