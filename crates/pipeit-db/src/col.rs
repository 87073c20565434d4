//! Column codecs: how domain values are stored, per back-end, converted at the edge.
//!
//! | Rust                  | SQLite (STRICT)                 | PostgreSQL       |
//! |-----------------------|---------------------------------|------------------|
//! | `U256` ([`Wei`])      | TEXT, decimal digits            | NUMERIC(78, 0)   |
//! | `Decimal` ([`Dec`])   | TEXT, decimal string            | NUMERIC          |
//! | `DateTime<Utc>` ([`Ts`]) | TEXT, RFC 3339 UTC, µs       | TIMESTAMPTZ      |
//! | `u64` ([`U64`])       | INTEGER (≤ 2^63 − 1)            | BIGINT           |
//! | hashes, addresses, enums ([`Text`]) | TEXT              | TEXT             |
//!
//! Never a float. Each wrapper checks what it reads, so a corrupt value is a decode error naming the
//! column, not a wrong number.

use std::str::FromStr;

use alloy_primitives::{Address, B256, U256};
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use pipeit_core::Currency;
use rust_decimal::Decimal;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Database, Decode, Encode, Postgres, Sqlite, Type};

/// A value stored as TEXT on both back-ends.
pub(crate) trait DbText: Sized {
    fn to_text(&self) -> String;
    fn from_text(text: &str) -> Result<Self, BoxDynError>;
}

/// `0x` + 64 lowercase hex digits.
impl DbText for B256 {
    fn to_text(&self) -> String {
        format!("{self:#x}")
    }
    fn from_text(text: &str) -> Result<Self, BoxDynError> {
        Ok(B256::from_str(text)?)
    }
}

/// `0x` + 40 lowercase hex digits (not the EIP-55 checksum: one spelling, so `=` compares).
impl DbText for Address {
    fn to_text(&self) -> String {
        format!("{self:#x}")
    }
    fn from_text(text: &str) -> Result<Self, BoxDynError> {
        Ok(Address::from_str(text)?)
    }
}

impl DbText for Currency {
    fn to_text(&self) -> String {
        self.code().to_owned()
    }
    fn from_text(text: &str) -> Result<Self, BoxDynError> {
        Ok(Currency::from_str(text)?)
    }
}

/// Decimal digits only: no sign, no leading zeros, no exponent.
impl DbText for U256 {
    fn to_text(&self) -> String {
        self.to_string()
    }
    fn from_text(text: &str) -> Result<Self, BoxDynError> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{text:?} is not a non-negative decimal integer").into());
        }
        Ok(U256::from_str_radix(text, 10)?)
    }
}

/// `Decimal`'s own string form, which keeps the scale (`1.50` stays `1.50`).
impl DbText for Decimal {
    fn to_text(&self) -> String {
        self.to_string()
    }
    fn from_text(text: &str) -> Result<Self, BoxDynError> {
        Ok(Decimal::from_str_exact(text)?)
    }
}

/// Fixed width (`2026-01-02T03:04:05.000006Z`) so that text order is time order.
impl DbText for DateTime<Utc> {
    fn to_text(&self) -> String {
        self.to_rfc3339_opts(SecondsFormat::Micros, true)
    }
    fn from_text(text: &str) -> Result<Self, BoxDynError> {
        Ok(DateTime::parse_from_rfc3339(text)?.with_timezone(&Utc))
    }
}

/// A TEXT column on either back-end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Text<T>(pub T);

impl<DB: Database, T> Type<DB> for Text<T>
where
    String: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: Database, T: DbText> Encode<'q, DB> for Text<T>
where
    String: Encode<'q, DB>,
{
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer<'q>) -> Result<IsNull, BoxDynError> {
        self.0.to_text().encode(buf)
    }
}

impl<'r, DB: Database, T: DbText> Decode<'r, DB> for Text<T>
where
    &'r str: Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        T::from_text(<&'r str as Decode<'r, DB>>::decode(value)?).map(Text)
    }
}

/// A `u64` in a signed 64-bit column; values above `i64::MAX` are refused, never wrapped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct U64(pub u64);

impl<DB: Database> Type<DB> for U64
where
    i64: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <i64 as Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <i64 as Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: Database> Encode<'q, DB> for U64
where
    i64: Encode<'q, DB>,
{
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer<'q>) -> Result<IsNull, BoxDynError> {
        let value = i64::try_from(self.0)
            .map_err(|_| format!("{} does not fit a signed 64-bit column", self.0))?;
        value.encode(buf)
    }
}

impl<'r, DB: Database> Decode<'r, DB> for U64
where
    i64: Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let value = <i64 as Decode<'r, DB>>::decode(value)?;
        Ok(U64(
            u64::try_from(value).map_err(|_| format!("{value} is negative"))?
        ))
    }
}

/// Implements the SQLite side of a wrapper as TEXT through [`DbText`].
macro_rules! sqlite_text {
    ($wrapper:ident) => {
        impl Type<Sqlite> for $wrapper {
            fn type_info() -> SqliteTypeInfo {
                <String as Type<Sqlite>>::type_info()
            }
            fn compatible(ty: &SqliteTypeInfo) -> bool {
                <String as Type<Sqlite>>::compatible(ty)
            }
        }
        impl<'q> Encode<'q, Sqlite> for $wrapper {
            fn encode_by_ref(
                &self,
                buf: &mut Vec<SqliteArgumentValue<'q>>,
            ) -> Result<IsNull, BoxDynError> {
                <String as Encode<'q, Sqlite>>::encode(self.0.to_text(), buf)
            }
        }
        impl<'r> Decode<'r, Sqlite> for $wrapper {
            fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
                DbText::from_text(<&'r str as Decode<'r, Sqlite>>::decode(value)?).map($wrapper)
            }
        }
    };
}

/// Wei (or any `uint256`): TEXT on SQLite, NUMERIC(78, 0) on PostgreSQL.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wei(pub U256);
sqlite_text!(Wei);

/// A fiat amount, rate or price: TEXT on SQLite, NUMERIC on PostgreSQL.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dec(pub Decimal);
sqlite_text!(Dec);

/// A point in time, microsecond precision on both back-ends: TEXT on SQLite, TIMESTAMPTZ on PostgreSQL.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ts(pub DateTime<Utc>);
sqlite_text!(Ts);

/// Now, truncated to what both back-ends keep (microseconds), so a value reads back equal.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

impl Type<Postgres> for Dec {
    fn type_info() -> PgTypeInfo {
        <Decimal as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Decimal as Type<Postgres>>::compatible(ty)
    }
}
impl Encode<'_, Postgres> for Dec {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Decimal as Encode<'_, Postgres>>::encode_by_ref(&self.0, buf)
    }
}
impl<'r> Decode<'r, Postgres> for Dec {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <Decimal as Decode<'r, Postgres>>::decode(value).map(Dec)
    }
}

impl Type<Postgres> for Ts {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <DateTime<Utc> as Type<Postgres>>::compatible(ty)
    }
}
impl Encode<'_, Postgres> for Ts {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <DateTime<Utc> as Encode<'_, Postgres>>::encode_by_ref(&self.0, buf)
    }
}
impl<'r> Decode<'r, Postgres> for Ts {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <DateTime<Utc> as Decode<'r, Postgres>>::decode(value).map(Ts)
    }
}

// PostgreSQL NUMERIC binary format (src/backend/utils/adt/numeric.c, numeric_send/numeric_recv):
// i16 ndigits, i16 weight, u16 sign, u16 dscale, then ndigits base-10000 digits as i16, most
// significant first; value = Σ digit[i] · 10000^(weight − i).
const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_BASE: u64 = 10_000;

impl Type<Postgres> for Wei {
    fn type_info() -> PgTypeInfo {
        <Decimal as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Decimal as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for Wei {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        let base = U256::from(NUMERIC_BASE);
        let mut digits: Vec<i16> = Vec::new(); // least significant first
        let mut rest = self.0;
        while !rest.is_zero() {
            let (quotient, digit) = rest.div_rem(base);
            // A remainder of a division by 10 000 fits one limb and an i16.
            digits.push(i16::try_from(digit.as_limbs()[0])?);
            rest = quotient;
        }
        let weight = i16::try_from(digits.len().saturating_sub(1))?;
        // Trailing zero digits are implied by the weight; PostgreSQL strips them too.
        let zeros = digits.iter().take_while(|d| **d == 0).count();
        let digits = &digits[zeros..];
        buf.extend_from_slice(&i16::try_from(digits.len())?.to_be_bytes());
        buf.extend_from_slice(&weight.to_be_bytes());
        buf.extend_from_slice(&NUMERIC_POS.to_be_bytes());
        buf.extend_from_slice(&0_u16.to_be_bytes()); // dscale: an integer
        for digit in digits.iter().rev() {
            buf.extend_from_slice(&digit.to_be_bytes());
        }
        Ok(IsNull::No)
    }
}

impl<'r> Decode<'r, Postgres> for Wei {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Text => U256::from_text(value.as_str()?).map(Wei),
            PgValueFormat::Binary => decode_numeric(value.as_bytes()?).map(Wei),
        }
    }
}

fn decode_numeric(bytes: &[u8]) -> Result<U256, BoxDynError> {
    let word = |i: usize| -> Result<[u8; 2], BoxDynError> {
        let at = 2 * i;
        match bytes.get(at..at + 2) {
            Some(&[a, b]) => Ok([a, b]),
            _ => Err("truncated NUMERIC value".into()),
        }
    };
    let ndigits = i16::from_be_bytes(word(0)?);
    let weight = i16::from_be_bytes(word(1)?);
    let sign = u16::from_be_bytes(word(2)?);
    if sign != NUMERIC_POS {
        return Err(format!("NUMERIC sign {sign:#06x} is not a non-negative number").into());
    }
    let ndigits = usize::try_from(ndigits).map_err(|_| "negative NUMERIC digit count")?;
    let overflow = || -> BoxDynError { "NUMERIC value does not fit 256 bits".into() };
    let base = U256::from(NUMERIC_BASE);
    let mut value = U256::ZERO;
    for i in 0..ndigits {
        let digit = i16::from_be_bytes(word(4 + i)?);
        let digit = u64::try_from(digit)
            .ok()
            .filter(|d| *d < NUMERIC_BASE)
            .ok_or_else(|| format!("NUMERIC digit {digit} out of range"))?;
        // Digits at a negative power of 10 000 are the fraction; an integer has none.
        let exponent = i32::from(weight) - i32::try_from(i)?;
        if exponent < 0 {
            if digit != 0 {
                return Err("NUMERIC value has a fractional part".into());
            }
            continue;
        }
        value = value
            .checked_mul(base)
            .and_then(|v| v.checked_add(U256::from(digit)))
            .ok_or_else(overflow)?;
    }
    // Trailing zero digits are not sent: scale up to the weight.
    let sent = i32::try_from(ndigits)?;
    for _ in sent..=i32::from(weight) {
        value = value.checked_mul(base).ok_or_else(overflow)?;
    }
    Ok(value)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn encode(value: U256) -> Vec<u8> {
        let mut buf = PgArgumentBuffer::default();
        let _ = Encode::<Postgres>::encode_by_ref(&Wei(value), &mut buf).unwrap();
        buf.to_vec()
    }

    #[test]
    fn numeric_round_trips_powers_and_edges() {
        let mut cases = vec![U256::ZERO, U256::from(1), U256::from(9_999), U256::MAX];
        for k in 0..78 {
            let p = U256::from(10).pow(U256::from(k));
            cases.extend([p, p - U256::from(1), p + U256::from(1)]);
        }
        for value in cases {
            assert_eq!(decode_numeric(&encode(value)).unwrap(), value, "{value}");
        }
    }

    #[test]
    fn numeric_encoding_matches_postgres_layout() {
        // 10 000 = one digit 1 at weight 1 (the trailing zero digit is implied).
        assert_eq!(encode(U256::from(10_000)), [0, 1, 0, 1, 0, 0, 0, 0, 0, 1]);
        assert_eq!(encode(U256::ZERO), [0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn numeric_decode_refuses_negative_fraction_and_overflow() {
        // -1: one digit, weight 0, sign negative.
        assert!(decode_numeric(&[0, 1, 0, 0, 0x40, 0, 0, 0, 0, 1]).is_err());
        // 0.5: digit 5000 at weight -1.
        assert!(decode_numeric(&[0, 1, 0xff, 0xff, 0, 0, 0, 1, 0x13, 0x88]).is_err());
        // 10^80: one digit 1 at weight 20.
        assert!(decode_numeric(&[0, 1, 0, 20, 0, 0, 0, 0, 0, 1]).is_err());
    }

    #[test]
    fn text_forms_are_fixed() {
        assert!(U256::from_text("-1").is_err());
        assert!(U256::from_text("1e3").is_err());
        assert!(U256::from_text("").is_err());
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.5Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(t.to_text(), "2026-01-02T03:04:05.500000Z");
    }
}
