//! Lots and their matching (FIFO, LIFO, HIFO): pure, no I/O.
//!
//! A lot is a parcel of shares acquired together, with its basis in wei and in fiat. A disposal
//! takes shares out of the book in the method's order, splitting the last lot it touches: the part
//! taken gets `basis × taken / lot shares` (wei rounded down, fiat at full precision) and the part
//! left keeps the rest, so no wei of basis is lost or counted twice.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use alloy_primitives::U256;
use rust_decimal::Decimal;

use crate::money::mul_div;
use crate::request::Method;

/// A parcel of shares with its cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    /// Sequence number of the acquisition that opened it (1, 2, …), stable across splits.
    pub id: u64,
    /// When it was acquired (unix seconds).
    pub acquired: i64,
    /// Shares in it.
    pub shares: U256,
    /// Cost in wei (price paid plus the acquirer's gas).
    pub basis_eth: U256,
    /// Cost in fiat at the acquisition block's price, unrounded.
    pub basis_fiat: Decimal,
}

impl Lot {
    /// Splits `take` shares off (`take < shares`): the taken part gets its share of the basis
    /// (wei rounded down), this lot keeps the rest.
    fn split_off(&mut self, take: U256) -> Lot {
        let basis_eth = mul_div(self.basis_eth, take, self.shares).unwrap_or_default();
        let basis_fiat = fraction(take, self.shares)
            .and_then(|f| self.basis_fiat.checked_mul(f))
            .unwrap_or(self.basis_fiat);
        self.shares -= take;
        self.basis_eth -= basis_eth;
        self.basis_fiat -= basis_fiat;
        Lot {
            id: self.id,
            acquired: self.acquired,
            shares: take,
            basis_eth,
            basis_fiat,
        }
    }

    /// Fiat cost per share unit: the HIFO order.
    fn unit_cost(&self) -> Decimal {
        match share_decimal(self.shares) {
            Some(s) if !s.is_zero() => self.basis_fiat.checked_div(s).unwrap_or(Decimal::MAX),
            _ => Decimal::ZERO,
        }
    }
}

/// `part / whole` as a `Decimal` (both below 2^96).
pub(crate) fn fraction(part: U256, whole: U256) -> Option<Decimal> {
    share_decimal(part)?.checked_div(share_decimal(whole)?)
}

fn share_decimal(v: U256) -> Option<Decimal> {
    Decimal::try_from_i128_with_scale(i128::try_from(v).ok()?, 0).ok()
}

/// Order of the book: the first key is matched first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key(Reverse<Decimal>, i64);

/// The open lots of one wallet.
#[derive(Debug, Clone)]
pub struct LotBook {
    method: Method,
    lots: BTreeMap<Key, Lot>,
    next_id: u64,
}

/// Not enough shares in the book for a disposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    /// Shares asked for.
    pub wanted: U256,
    /// Shares held.
    pub held: U256,
}

impl LotBook {
    /// An empty book matched by `method`.
    pub fn new(method: Method) -> LotBook {
        LotBook {
            method,
            lots: BTreeMap::new(),
            next_id: 1,
        }
    }

    fn key(&self, lot: &Lot) -> Key {
        let id = i64::try_from(lot.id).unwrap_or(i64::MAX);
        match self.method {
            Method::Fifo => Key(Reverse(Decimal::ZERO), id),
            Method::Lifo => Key(Reverse(Decimal::ZERO), -id),
            Method::Hifo => Key(Reverse(lot.unit_cost()), id),
        }
    }

    /// Opens a lot; returns it (with its id).
    pub fn open(
        &mut self,
        acquired: i64,
        shares: U256,
        basis_eth: U256,
        basis_fiat: Decimal,
    ) -> Lot {
        let lot = Lot {
            id: self.next_id,
            acquired,
            shares,
            basis_eth,
            basis_fiat,
        };
        self.next_id += 1;
        self.insert(lot.clone());
        lot
    }

    /// Puts lots back (a cancelled queue request returns its locked lots).
    pub fn restore(&mut self, lots: Vec<Lot>) {
        for lot in lots {
            self.insert(lot);
        }
    }

    fn insert(&mut self, lot: Lot) {
        if lot.shares.is_zero() {
            return;
        }
        let key = self.key(&lot);
        // The same lot id split twice (restore of a part) merges back.
        match self.lots.get_mut(&key) {
            Some(existing) => {
                existing.shares += lot.shares;
                existing.basis_eth += lot.basis_eth;
                existing.basis_fiat += lot.basis_fiat;
            }
            None => {
                self.lots.insert(key, lot);
            }
        }
    }

    /// Shares held.
    pub fn held(&self) -> U256 {
        self.lots.values().map(|l| l.shares).sum()
    }

    /// Takes `shares` out in the method's order, splitting the last lot touched.
    pub fn take(&mut self, shares: U256) -> Result<Vec<Lot>, Shortfall> {
        let held = self.held();
        if held < shares {
            return Err(Shortfall {
                wanted: shares,
                held,
            });
        }
        let mut out = Vec::new();
        let mut left = shares;
        while !left.is_zero() {
            let Some(mut entry) = self.lots.first_entry() else {
                break; // unreachable: held >= shares was checked
            };
            if entry.get().shares <= left {
                let lot = entry.remove();
                left -= lot.shares;
                out.push(lot);
            } else {
                out.push(entry.get_mut().split_off(left));
                left = U256::ZERO;
            }
        }
        Ok(out)
    }
}

/// Takes `shares` from the front of `lots` (already in matching order), splitting the last.
pub fn take_from(lots: &mut Vec<Lot>, shares: U256) -> Result<Vec<Lot>, Shortfall> {
    let held: U256 = lots.iter().map(|l| l.shares).sum();
    if held < shares {
        return Err(Shortfall {
            wanted: shares,
            held,
        });
    }
    let mut out = Vec::new();
    let mut left = shares;
    while !left.is_zero() && !lots.is_empty() {
        if lots[0].shares <= left {
            let lot = lots.remove(0);
            left -= lot.shares;
            out.push(lot);
        } else {
            out.push(lots[0].split_off(left));
            left = U256::ZERO;
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn book(method: Method) -> LotBook {
        let mut b = LotBook::new(method);
        b.open(1, U256::from(10u8), U256::from(100u8), dec!(1000)); // 100 per share
        b.open(2, U256::from(10u8), U256::from(300u16), dec!(3000)); // 300 per share
        b.open(3, U256::from(10u8), U256::from(200u8), dec!(2000)); // 200 per share
        b
    }

    fn ids(lots: &[Lot]) -> Vec<(u64, u64)> {
        lots.iter().map(|l| (l.id, l.shares.to::<u64>())).collect()
    }

    #[test]
    fn each_method_takes_in_its_order_and_splits_the_last_lot() {
        let mut fifo = book(Method::Fifo);
        assert_eq!(
            ids(&fifo.take(U256::from(15u8)).unwrap()),
            [(1, 10), (2, 5)]
        );
        let mut lifo = book(Method::Lifo);
        assert_eq!(
            ids(&lifo.take(U256::from(15u8)).unwrap()),
            [(3, 10), (2, 5)]
        );
        let mut hifo = book(Method::Hifo);
        let taken = hifo.take(U256::from(15u8)).unwrap();
        assert_eq!(ids(&taken), [(2, 10), (3, 5)]);
        assert_eq!(
            (taken[1].basis_eth, taken[1].basis_fiat),
            (U256::from(100u8), dec!(1000))
        );
        assert_eq!(hifo.held(), U256::from(15u8));
    }

    #[test]
    fn splits_keep_every_wei_of_basis() {
        let mut b = LotBook::new(Method::Fifo);
        b.open(1, U256::from(3u8), U256::from(100u8), dec!(10));
        let first = b.take(U256::from(1u8)).unwrap();
        let rest = b.take(U256::from(2u8)).unwrap();
        assert_eq!(first[0].basis_eth, U256::from(33u8)); // rounded down
        assert_eq!(rest[0].basis_eth, U256::from(67u8)); // the rest
        assert_eq!(first[0].basis_fiat + rest[0].basis_fiat, dec!(10));
    }

    #[test]
    fn taking_more_than_held_is_a_shortfall() {
        let mut b = book(Method::Fifo);
        let e = b.take(U256::from(31u8)).unwrap_err();
        assert_eq!((e.wanted, e.held), (U256::from(31u8), U256::from(30u8)));
        assert_eq!(b.held(), U256::from(30u8), "nothing taken on a shortfall");
    }
}
