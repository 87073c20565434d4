//! The off-chain invoice record, its validation and its on-chain id.

use alloy_primitives::{keccak256, B256};
use chrono::{NaiveDate, NaiveTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::country::is_country_code;
use crate::currency::Currency;
use crate::fiat::{FiatAmount, FiatError};
use crate::math::DAY;

/// Longest debtor name accepted, in characters (after trimming).
pub const MAX_DEBTOR_NAME_CHARS: usize = 200;
/// Longest debtor tax id accepted, in characters (after trimming).
pub const MAX_TAX_ID_CHARS: usize = 64;
/// Longest invoice number accepted, in characters (after trimming).
pub const MAX_INVOICE_NUMBER_CHARS: usize = 64;
/// First line of the canonical encoding; a new encoding gets a new tag and so new ids.
pub const CANONICAL_ENCODING_TAG: &str = "pipeit-invoice-v1";

/// What is wrong with an invoice record; [`InvoiceError::field`] names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceError {
    /// Empty or only whitespace.
    #[error("{field}: must not be empty")]
    Empty {
        /// The field.
        field: &'static str,
    },
    /// Longer than allowed.
    #[error("{field}: {len} characters, at most {max} allowed")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length in characters, after trimming.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// Contains a control character (newline, tab, ...) inside the text.
    #[error("{field}: must not contain control characters or invisible formatting (bidi overrides, zero-width)")]
    ControlCharacter {
        /// The field.
        field: &'static str,
    },
    /// Has no letter or digit once normalised (e.g. `"--"`).
    #[error("{field}: must contain at least one letter or digit")]
    NoAlphanumeric {
        /// The field.
        field: &'static str,
    },
    /// Not an ISO 3166-1 alpha-2 code.
    #[error("debtor_country: {code:?} is not an ISO 3166-1 alpha-2 country code (uppercase, e.g. \"DE\")")]
    UnknownCountry {
        /// The code given.
        code: String,
    },
    /// The amount is not a valid amount of the currency.
    #[error("amount: {0}")]
    Amount(FiatError),
    /// The due date is not after the issue date.
    #[error("due_date: {due_date} must be after issue_date {issue_date}")]
    DueNotAfterIssue {
        /// The issue date.
        issue_date: NaiveDate,
        /// The due date.
        due_date: NaiveDate,
    },
    /// A date before 1970-01-01 (no unix timestamp).
    #[error("{field}: {date} is before 1970-01-01")]
    BeforeUnixEpoch {
        /// The field.
        field: &'static str,
        /// The date given.
        date: NaiveDate,
    },
    /// An all-zero document hash (a placeholder, not a hash).
    #[error("document_hash: must not be zero")]
    ZeroDocumentHash,
}

impl InvoiceError {
    /// The name of the field that is wrong, as serialised.
    pub fn field(&self) -> &'static str {
        match self {
            InvoiceError::Empty { field }
            | InvoiceError::TooLong { field, .. }
            | InvoiceError::ControlCharacter { field }
            | InvoiceError::NoAlphanumeric { field }
            | InvoiceError::BeforeUnixEpoch { field, .. } => field,
            InvoiceError::UnknownCountry { .. } => "debtor_country",
            InvoiceError::Amount(_) => "amount",
            InvoiceError::DueNotAfterIssue { .. } => "due_date",
            InvoiceError::ZeroDocumentHash => "document_hash",
        }
    }
}

/// An invoice a business asks pipeit to finance. Only its [`canonical_id`](Self::canonical_id) goes on-chain.
///
/// The amount is a decimal string in JSON (`"1234.56"`), never a floating-point number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRecord {
    /// Legal name of the business that owes the invoice.
    pub debtor_name: String,
    /// The debtor's registration or tax id (VAT number, EIN, ...), in any common spelling.
    pub debtor_tax_id: String,
    /// The debtor's country, ISO 3166-1 alpha-2 (`"DE"`).
    pub debtor_country: String,
    /// The invoice number as printed on the invoice.
    pub invoice_number: String,
    /// Currency of the invoice (USD when absent).
    #[serde(default)]
    pub currency: Currency,
    /// Face value, in `currency`.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// Date the invoice was issued.
    pub issue_date: NaiveDate,
    /// Date the debtor must pay.
    pub due_date: NaiveDate,
    /// Hash of the invoice document (e.g. keccak256 of the PDF), if provided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_hash: Option<B256>,
}

impl InvoiceRecord {
    /// Every problem with the record, in field order (empty when valid).
    pub fn problems(&self) -> Vec<InvoiceError> {
        [
            check_text("debtor_name", &self.debtor_name, MAX_DEBTOR_NAME_CHARS).err(),
            check_identifier(
                "debtor_tax_id",
                &self.debtor_tax_id,
                MAX_TAX_ID_CHARS,
                normalize_tax_id,
            )
            .err(),
            check_country(&self.debtor_country).err(),
            check_identifier(
                "invoice_number",
                &self.invoice_number,
                MAX_INVOICE_NUMBER_CHARS,
                normalize_invoice_number,
            )
            .err(),
            self.fiat_amount().err(),
            check_not_before_epoch("issue_date", self.issue_date).err(),
            check_not_before_epoch("due_date", self.due_date).err(),
            check_due_after_issue(self.issue_date, self.due_date).err(),
            check_document_hash(self.document_hash).err(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The first problem with the record, if any (see [`problems`](Self::problems)).
    pub fn validate(&self) -> Result<(), InvoiceError> {
        match self.problems().into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }

    /// The validated face value.
    pub fn fiat_amount(&self) -> Result<FiatAmount, InvoiceError> {
        FiatAmount::new(self.currency, self.amount).map_err(InvoiceError::Amount)
    }

    /// The due date as the vault's `dueAt` (see [`due_at_timestamp`]).
    pub fn due_at(&self) -> Result<u64, InvoiceError> {
        due_at_timestamp(self.due_date)
    }

    /// The canonical encoding hashed by [`canonical_id`](Self::canonical_id), after validation.
    ///
    /// UTF-8 text, eight lines joined by `\n` (no trailing newline):
    ///
    /// 1. `pipeit-invoice-v1` ([`CANONICAL_ENCODING_TAG`])
    /// 2. debtor tax id, normalised by [`normalize_tax_id`] (uppercase; whitespace, `-` and `.` removed)
    /// 3. debtor country (ISO 3166-1 alpha-2, uppercase)
    /// 4. invoice number, normalised by [`normalize_invoice_number`] (trimmed, uppercase)
    /// 5. currency (ISO 4217 code)
    /// 6. amount as an integer count of minor units, decimal, no sign or leading zeros (`1234.56` USD → `123456`)
    /// 7. issue date, ISO 8601 `YYYY-MM-DD`
    /// 8. due date, ISO 8601 `YYYY-MM-DD`
    ///
    /// Debtor name and document hash are left out: they describe the invoice but do not identify it,
    /// and spelling them differently must not make a second id. Validation forbids control characters,
    /// so no field can contain the separator.
    ///
    /// Example: tax id `de 123.456-789`, country `DE`, number ` inv-001 `, 1234.56 EUR, issued
    /// 2024-03-01, due 2024-03-31 encode as
    /// `pipeit-invoice-v1\nDE123456789\nDE\nINV-001\nEUR\n123456\n2024-03-01\n2024-03-31`.
    pub fn canonical_encoding(&self) -> Result<String, InvoiceError> {
        self.validate()?;
        let lines = [
            CANONICAL_ENCODING_TAG.to_owned(),
            normalize_tax_id(&self.debtor_tax_id),
            self.debtor_country.clone(),
            normalize_invoice_number(&self.invoice_number),
            self.currency.code().to_owned(),
            self.fiat_amount()?.minor_units().to_string(),
            self.issue_date.format("%Y-%m-%d").to_string(),
            self.due_date.format("%Y-%m-%d").to_string(),
        ];
        Ok(lines.join("\n"))
    }

    /// The invoice id the vault knows: `keccak256(canonical_encoding)`.
    ///
    /// It depends only on what identifies the invoice, never on who submits it, so the same invoice
    /// submitted by two accounts gets the same id and cannot be financed twice.
    pub fn canonical_id(&self) -> Result<B256, InvoiceError> {
        Ok(keccak256(self.canonical_encoding()?.as_bytes()))
    }
}

/// A tax id as it is compared: uppercase, with whitespace, dashes and dots removed
/// (`"de 123.456-789"` → `"DE123456789"`).
pub fn normalize_tax_id(tax_id: &str) -> String {
    tax_id
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '.')
        .flat_map(char::to_uppercase)
        .collect()
}

/// An invoice number as it is compared: trimmed and uppercase (`" inv-001 "` → `"INV-001"`).
pub fn normalize_invoice_number(number: &str) -> String {
    number.trim().to_uppercase()
}

/// Midnight UTC at the start of `date`, in unix seconds: the vault's `dueAt`, which it requires to be
/// day-aligned (`due_at % DAY == 0`).
pub fn due_at_timestamp(date: NaiveDate) -> Result<u64, InvoiceError> {
    unix_midnight(date).ok_or(InvoiceError::BeforeUnixEpoch {
        field: "due_date",
        date,
    })
}

fn unix_midnight(date: NaiveDate) -> Option<u64> {
    let seconds = u64::try_from(date.and_time(NaiveTime::MIN).and_utc().timestamp()).ok()?;
    debug_assert_eq!(seconds % DAY, 0);
    Some(seconds)
}

fn check_text<'a>(
    field: &'static str,
    value: &'a str,
    max: usize,
) -> Result<&'a str, InvoiceError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(InvoiceError::Empty { field });
    }
    let len = trimmed.chars().count();
    if len > max {
        return Err(InvoiceError::TooLong { field, len, max });
    }
    if trimmed.chars().any(is_hidden) {
        return Err(InvoiceError::ControlCharacter { field });
    }
    Ok(trimmed)
}

/// Control characters, and the invisible formatting characters that make text read differently
/// from what it is (bidi overrides like U+202E, zero-width spaces and joiners, the BOM): an invoice
/// number that displays as `INV-1` must be `INV-1`.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// An identifier is text whose normalised form has a letter or digit and no control character.
fn check_identifier(
    field: &'static str,
    value: &str,
    max: usize,
    normalize: fn(&str) -> String,
) -> Result<(), InvoiceError> {
    let trimmed = value.trim();
    check_text(field, &trimmed.replace(char::is_whitespace, " "), max)?;
    let normalized = normalize(value);
    if normalized.chars().any(is_hidden) {
        return Err(InvoiceError::ControlCharacter { field });
    }
    if !normalized.chars().any(char::is_alphanumeric) {
        return Err(InvoiceError::NoAlphanumeric { field });
    }
    Ok(())
}

fn check_country(code: &str) -> Result<(), InvoiceError> {
    if code.trim().is_empty() {
        return Err(InvoiceError::Empty {
            field: "debtor_country",
        });
    }
    if !is_country_code(code) {
        return Err(InvoiceError::UnknownCountry {
            code: code.to_owned(),
        });
    }
    Ok(())
}

fn check_not_before_epoch(field: &'static str, date: NaiveDate) -> Result<(), InvoiceError> {
    match unix_midnight(date) {
        Some(_) => Ok(()),
        None => Err(InvoiceError::BeforeUnixEpoch { field, date }),
    }
}

fn check_due_after_issue(issue_date: NaiveDate, due_date: NaiveDate) -> Result<(), InvoiceError> {
    if due_date <= issue_date {
        return Err(InvoiceError::DueNotAfterIssue {
            issue_date,
            due_date,
        });
    }
    Ok(())
}

fn check_document_hash(hash: Option<B256>) -> Result<(), InvoiceError> {
    match hash {
        Some(hash) if hash.is_zero() => Err(InvoiceError::ZeroDocumentHash),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use alloy_primitives::b256;
    use rust_decimal_macros::dec;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn record() -> InvoiceRecord {
        InvoiceRecord {
            debtor_name: "Müller Maschinenbau GmbH".to_owned(),
            debtor_tax_id: "de 123.456-789".to_owned(),
            debtor_country: "DE".to_owned(),
            invoice_number: " inv-001 ".to_owned(),
            currency: Currency::Eur,
            amount: dec!(1234.56),
            issue_date: date(2024, 3, 1),
            due_date: date(2024, 3, 31),
            document_hash: None,
        }
    }

    fn first_field(r: &InvoiceRecord) -> &'static str {
        r.validate().unwrap_err().field()
    }

    #[test]
    fn a_good_record_is_valid() {
        assert_eq!(record().problems(), vec![]);
        assert!(record().validate().is_ok());
    }

    #[test]
    fn canonical_encoding_is_as_documented() {
        assert_eq!(
            record().canonical_encoding().unwrap(),
            "pipeit-invoice-v1\nDE123456789\nDE\nINV-001\nEUR\n123456\n2024-03-01\n2024-03-31"
        );
    }

    #[test]
    fn canonical_id_is_keccak_of_the_encoding() {
        let encoding =
            "pipeit-invoice-v1\nDE123456789\nDE\nINV-001\nEUR\n123456\n2024-03-01\n2024-03-31";
        assert_eq!(
            record().canonical_id().unwrap(),
            keccak256(encoding.as_bytes())
        );
    }

    #[test]
    fn canonical_id_ignores_who_spells_it_how() {
        let mut other = record();
        other.debtor_name = "MUELLER MASCHINENBAU".to_owned();
        other.debtor_tax_id = "DE123456789".to_owned();
        other.invoice_number = "INV-001".to_owned();
        other.amount = dec!(1234.560);
        other.document_hash = Some(b256!(
            "0x1111111111111111111111111111111111111111111111111111111111111111"
        ));
        assert_eq!(
            other.canonical_id().unwrap(),
            record().canonical_id().unwrap()
        );
    }

    #[test]
    fn canonical_id_changes_with_each_identifying_field() {
        let base = record().canonical_id().unwrap();
        let changes: [fn(&mut InvoiceRecord); 7] = [
            |r| r.debtor_tax_id = "DE123456780".to_owned(),
            |r| r.debtor_country = "AT".to_owned(),
            |r| r.invoice_number = "INV-002".to_owned(),
            |r| r.currency = Currency::Usd,
            |r| r.amount = dec!(1234.57),
            |r| r.issue_date = date(2024, 3, 2),
            |r| r.due_date = date(2024, 4, 1),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut r = record();
            change(&mut r);
            assert_ne!(r.canonical_id().unwrap(), base, "change {i}");
        }
    }

    #[test]
    fn invoice_number_dashes_are_significant() {
        let mut r = record();
        r.invoice_number = "INV001".to_owned();
        assert_ne!(r.canonical_id().unwrap(), record().canonical_id().unwrap());
    }

    #[test]
    fn canonical_id_of_an_invalid_record_is_an_error() {
        let mut r = record();
        r.amount = dec!(0);
        assert_eq!(r.canonical_id().unwrap_err().field(), "amount");
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize_tax_id(" gb 123.456-789\t"), "GB123456789");
        assert_eq!(normalize_tax_id("12-3456789"), "123456789");
        assert_eq!(normalize_invoice_number("  a/2024 x  "), "A/2024 X");
    }

    #[test]
    fn due_date_must_be_after_issue_date() {
        let mut r = record();
        r.due_date = r.issue_date;
        assert_eq!(
            r.validate(),
            Err(InvoiceError::DueNotAfterIssue {
                issue_date: date(2024, 3, 1),
                due_date: date(2024, 3, 1)
            })
        );
        r.due_date = date(2024, 2, 1);
        assert_eq!(first_field(&r), "due_date");
        assert!(r
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("due_date: 2024-02-01 must be after"));
    }

    #[test]
    fn empty_and_blank_texts_name_their_field() {
        for (field, set) in [
            (
                "debtor_name",
                (|r: &mut InvoiceRecord| r.debtor_name = "  ".to_owned()) as fn(&mut InvoiceRecord),
            ),
            ("debtor_tax_id", |r| r.debtor_tax_id = String::new()),
            ("debtor_country", |r| r.debtor_country = String::new()),
            ("invoice_number", |r| r.invoice_number = "\t".to_owned()),
        ] {
            let mut r = record();
            set(&mut r);
            assert_eq!(r.validate(), Err(InvoiceError::Empty { field }), "{field}");
        }
    }

    #[test]
    fn too_long_texts_say_by_how_much() {
        let mut r = record();
        r.debtor_name = "x".repeat(201);
        assert_eq!(
            r.validate(),
            Err(InvoiceError::TooLong {
                field: "debtor_name",
                len: 201,
                max: 200
            })
        );
        r.debtor_name = format!("  {}  ", "ü".repeat(200));
        assert!(
            r.validate().is_ok(),
            "counted in characters, after trimming"
        );
        r.invoice_number = "1".repeat(65);
        assert_eq!(
            r.validate(),
            Err(InvoiceError::TooLong {
                field: "invoice_number",
                len: 65,
                max: 64
            })
        );
        let mut r = record();
        r.debtor_tax_id = "1".repeat(65);
        assert_eq!(first_field(&r), "debtor_tax_id");
    }

    #[test]
    fn control_characters_are_rejected() {
        let mut r = record();
        r.invoice_number = "INV\n001".to_owned();
        assert_eq!(
            r.validate(),
            Err(InvoiceError::ControlCharacter {
                field: "invoice_number"
            })
        );
        let mut r = record();
        r.debtor_name = "ACME\u{7}".to_owned();
        assert_eq!(
            r.validate(),
            Err(InvoiceError::ControlCharacter {
                field: "debtor_name"
            })
        );
        let mut r = record();
        r.debtor_tax_id = "DE\u{0}1".to_owned();
        assert_eq!(
            r.validate(),
            Err(InvoiceError::ControlCharacter {
                field: "debtor_tax_id"
            })
        );
    }

    #[test]
    fn tax_id_whitespace_inside_is_fine() {
        let mut r = record();
        r.debtor_tax_id = "DE 123\t456 789".to_owned();
        assert!(r.validate().is_ok());
    }

    #[test]
    fn identifiers_need_a_letter_or_digit() {
        let mut r = record();
        r.debtor_tax_id = " -.- ".to_owned();
        assert_eq!(
            r.validate(),
            Err(InvoiceError::NoAlphanumeric {
                field: "debtor_tax_id"
            })
        );
        let mut r = record();
        r.invoice_number = "#/-".to_owned();
        assert_eq!(
            r.validate(),
            Err(InvoiceError::NoAlphanumeric {
                field: "invoice_number"
            })
        );
    }

    #[test]
    fn country_must_be_an_iso_code() {
        for code in ["UK", "de", "DEU", " DE"] {
            let mut r = record();
            r.debtor_country = code.to_owned();
            assert_eq!(
                r.validate(),
                Err(InvoiceError::UnknownCountry {
                    code: code.to_owned()
                }),
                "{code:?}"
            );
        }
    }

    #[test]
    fn amount_problems_name_the_amount() {
        let mut r = record();
        r.amount = dec!(-1);
        assert_eq!(first_field(&r), "amount");
        r.amount = dec!(1.005);
        let err = r.validate().unwrap_err();
        assert_eq!(err.field(), "amount");
        assert_eq!(
            err.to_string(),
            "amount: 1.005 EUR has 3 decimal places; EUR allows at most 2"
        );
        r.currency = Currency::Jpy;
        r.amount = dec!(1000.5);
        assert_eq!(first_field(&r), "amount");
    }

    #[test]
    fn zero_document_hash_is_rejected() {
        let mut r = record();
        r.document_hash = Some(B256::ZERO);
        assert_eq!(r.validate(), Err(InvoiceError::ZeroDocumentHash));
        assert_eq!(InvoiceError::ZeroDocumentHash.field(), "document_hash");
    }

    #[test]
    fn dates_before_1970_are_rejected() {
        let mut r = record();
        r.issue_date = date(1969, 12, 31);
        assert_eq!(
            r.validate(),
            Err(InvoiceError::BeforeUnixEpoch {
                field: "issue_date",
                date: date(1969, 12, 31)
            })
        );
    }

    #[test]
    fn problems_lists_every_field() {
        let r = InvoiceRecord {
            debtor_name: String::new(),
            debtor_tax_id: String::new(),
            debtor_country: "XX".to_owned(),
            invoice_number: String::new(),
            currency: Currency::Usd,
            amount: dec!(0),
            issue_date: date(2024, 3, 2),
            due_date: date(2024, 3, 1),
            document_hash: Some(B256::ZERO),
        };
        let fields: Vec<_> = r.problems().iter().map(InvoiceError::field).collect();
        assert_eq!(
            fields,
            [
                "debtor_name",
                "debtor_tax_id",
                "debtor_country",
                "invoice_number",
                "amount",
                "due_date",
                "document_hash"
            ]
        );
    }

    #[test]
    fn due_at_is_midnight_utc_and_day_aligned() {
        assert_eq!(due_at_timestamp(date(1970, 1, 1)).unwrap(), 0);
        assert_eq!(due_at_timestamp(date(1970, 1, 2)).unwrap(), DAY);
        assert_eq!(due_at_timestamp(date(2024, 3, 31)).unwrap(), 1_711_843_200);
        assert_eq!(record().due_at().unwrap() % DAY, 0);
        assert_eq!(
            due_at_timestamp(date(1969, 12, 31)),
            Err(InvoiceError::BeforeUnixEpoch {
                field: "due_date",
                date: date(1969, 12, 31)
            })
        );
    }

    #[test]
    fn serde_round_trip_with_string_amount_and_default_currency() {
        let json = serde_json::to_value(record()).unwrap();
        assert_eq!(json["amount"], "1234.56");
        assert_eq!(json["currency"], "EUR");
        assert_eq!(json["due_date"], "2024-03-31");
        assert!(json.get("document_hash").is_none());
        assert_eq!(
            serde_json::from_value::<InvoiceRecord>(json).unwrap(),
            record()
        );

        let without_currency = r#"{"debtor_name":"A","debtor_tax_id":"1","debtor_country":"US",
            "invoice_number":"1","amount":"10","issue_date":"2024-01-01","due_date":"2024-02-01"}"#;
        let r: InvoiceRecord = serde_json::from_str(without_currency).unwrap();
        assert_eq!(r.currency, Currency::Usd);
        assert!(
            serde_json::from_str::<InvoiceRecord>(&without_currency.replace("\"10\"", "10.5"))
                .is_err()
        );
        assert!(serde_json::from_str::<InvoiceRecord>(
            &without_currency.replace("US\",", "US\",\"currency\":\"usd\",")
        )
        .is_err());
    }
}
