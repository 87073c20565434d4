-- Gas paid by the transactions that carry investor events (tax reports add it to the cost basis or
-- take it from the proceeds when the investor sent the transaction). Written by the indexer in the
-- same transaction as the block batch; rolled back with it on a reorg.
CREATE TABLE tx_fees (
    chain_id            BIGINT         NOT NULL,
    contract            TEXT           NOT NULL CHECK (length(contract) = 42),
    tx_hash             TEXT           NOT NULL CHECK (length(tx_hash) = 66),
    block_number        BIGINT         NOT NULL CHECK (block_number >= 0),
    -- The sender (lowercase hex): only the sender's own reports count the fee.
    from_address        TEXT           NOT NULL CHECK (length(from_address) = 42),
    gas_used            NUMERIC(78, 0) NOT NULL CHECK (gas_used >= 0),
    effective_gas_price NUMERIC(78, 0) NOT NULL CHECK (effective_gas_price >= 0),
    -- gas_used × effective_gas_price, wei (the L2 execution fee; an OP-stack L1 data fee is not included).
    fee_wei             NUMERIC(78, 0) NOT NULL CHECK (fee_wei >= 0),
    PRIMARY KEY (chain_id, contract, tx_hash)
);
CREATE INDEX tx_fees_by_block ON tx_fees (chain_id, contract, block_number);
