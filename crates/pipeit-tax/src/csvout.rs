//! CSV output in chunks: records are written into a buffer that is handed out every few hundred
//! rows, so a stream never holds more than one chunk.

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;

use crate::error::Result;

/// Rows per chunk (a chunk is then 50–150 KiB).
const ROWS_PER_CHUNK: usize = 512;

/// Writes records; [`Chunks::take`] hands out the bytes written once a chunk is full.
pub(crate) struct Chunks {
    writer: csv::Writer<Vec<u8>>,
    rows: usize,
}

impl Chunks {
    pub(crate) fn new() -> Chunks {
        Chunks {
            writer: writer(),
            rows: 0,
        }
    }

    pub(crate) fn row<I, T>(&mut self, fields: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.writer.write_record(fields)?;
        self.rows += 1;
        Ok(())
    }

    /// The bytes of a full chunk, if one is full.
    pub(crate) fn take_full(&mut self) -> Result<Option<Bytes>> {
        if self.rows < ROWS_PER_CHUNK {
            return Ok(None);
        }
        self.take()
    }

    /// Whatever is written (`None` if nothing).
    pub(crate) fn take(&mut self) -> Result<Option<Bytes>> {
        let full = std::mem::replace(&mut self.writer, writer());
        self.rows = 0;
        let bytes = full
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))?;
        Ok((!bytes.is_empty()).then(|| Bytes::from(bytes)))
    }
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_writer(Vec::with_capacity(128 * 1024))
}

/// ISO 8601 UTC (`2025-03-01T12:00:00Z`).
pub(crate) fn iso_utc(ts: i64) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The ISO date (`2025-03-01`) in the report's time zone.
pub(crate) fn iso_date(ts: i64, tz: Tz) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0)
        .map(|t| t.with_timezone(&tz).date_naive().to_string())
        .unwrap_or_default()
}
