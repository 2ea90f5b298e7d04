//! `log.csv`: one row per step, the driver's columns (step, epoch, batch, batches, elapsed_s)
//! followed by the model's own (its losses), named by serde from the model's row type.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use anyhow::Context;
use csv::StringRecord;
use serde::de::DeserializeOwned;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize};

use crate::atomic_file::write_atomically;

pub const LOG_FILE: &str = "log.csv";

/// Where a step stands: the driver's columns of `log.csv`. `epoch` and `batch` are 1-based,
/// as printed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub step: u64,
    pub epoch: usize,
    pub batch: usize,
    pub batches: usize,
    pub elapsed_s: f64,
}

/// One row of `log.csv` read back: its position (reachable as `row.step` etc.) and the model's
/// columns.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedStep<L> {
    pub position: Position,
    pub losses: L,
}

impl<L> std::ops::Deref for LoggedStep<L> {
    type Target = Position;

    fn deref(&self) -> &Position {
        &self.position
    }
}

/// Appends step rows to `log.csv`, flushing each so a crash loses at most one line.
pub struct StepLog {
    path: PathBuf,
    /// The header of the rows kept from before a resume; the first row written decides whether
    /// they are rewritten under a new one (a column added since the run began).
    kept_header: Option<StringRecord>,
    writer: Option<csv::Writer<File>>,
}

impl StepLog {
    /// Opens the log of a run; when resuming after `keep_up_to_step`, rows past that step
    /// (written after the checkpoint being resumed) are dropped so the log stays consistent.
    /// Lines that cannot be read are dropped with a warning naming them.
    pub fn open(path: &Path, keep_up_to_step: u64) -> anyhow::Result<Self> {
        let mut kept = Vec::new();
        let mut header = None;
        if path.exists() {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .from_path(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let columns = reader.headers()?.len();
            header = Some(reader.headers()?.clone());
            for (line, record) in reader.records().enumerate() {
                let whole = record.ok().filter(|record| record.len() == columns);
                let step = whole
                    .as_ref()
                    .and_then(|record| record.get(0)?.parse::<u64>().ok());
                match (whole, step) {
                    (Some(record), Some(step)) if step <= keep_up_to_step => kept.push(record),
                    (Some(_), Some(_)) => {}
                    _ => log::warn!("{}: dropped unreadable line {}", path.display(), line + 2),
                }
            }
        }
        // The kept rows are rewritten whole, then appended to; a fresh log gets its header
        // from the first row serialised.
        let kept_header = header.filter(|_| !kept.is_empty());
        rewrite(path, kept_header.as_ref(), &kept)?;
        Ok(Self {
            path: path.to_path_buf(),
            kept_header,
            writer: None,
        })
    }

    /// Appends a step: the driver's columns, the model's, then the learning rates.
    pub fn write<L: Serialize>(
        &mut self,
        position: &Position,
        losses: &L,
        learning_rates: &[(&'static str, f64)],
    ) -> anyhow::Result<()> {
        let row = (position, losses, LearningRates(learning_rates));
        if self.writer.is_none() {
            self.writer = Some(self.start(&row)?);
        }
        let writer = self.writer.as_mut().expect("started above");
        writer.serialize(row)?;
        writer.flush()?;
        Ok(())
    }

    /// The appending writer, once the first row's columns are known. Rows kept under another
    /// header (a run from before a column was added) are rewritten under this one, their new
    /// columns empty.
    fn start(&self, row: &impl Serialize) -> anyhow::Result<csv::Writer<File>> {
        let header = header_of(row)?;
        if let Some(kept_header) = self.kept_header.as_ref().filter(|kept| **kept != header) {
            let mut reader = csv::Reader::from_path(&self.path)
                .with_context(|| format!("cannot read {}", self.path.display()))?;
            let rows: Vec<StringRecord> = reader
                .records()
                .collect::<Result<_, _>>()
                .with_context(|| format!("cannot read {}", self.path.display()))?;
            let moved: Vec<StringRecord> = rows
                .iter()
                .map(|row| {
                    header
                        .iter()
                        .map(|column| {
                            let old = kept_header.iter().position(|name| name == column);
                            old.and_then(|index| row.get(index)).unwrap_or("")
                        })
                        .collect()
                })
                .collect();
            log::info!(
                "{}: rewrote {} rows under the columns this version logs",
                self.path.display(),
                moved.len()
            );
            rewrite(&self.path, Some(&header), &moved)?;
        }
        let file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .with_context(|| format!("cannot append to {}", self.path.display()))?;
        Ok(csv::WriterBuilder::new()
            .has_headers(self.kept_header.is_none())
            .from_writer(file))
    }
}

/// The learning rates of a step, as columns named by the model.
struct LearningRates<'a>(&'a [(&'static str, f64)]);

impl Serialize for LearningRates<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut columns = serializer.serialize_struct("LearningRates", self.0.len())?;
        for (name, value) in self.0 {
            columns.serialize_field(name, value)?;
        }
        columns.end()
    }
}

/// The header csv writes for `row`.
fn header_of(row: &impl Serialize) -> anyhow::Result<StringRecord> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.serialize(row)?;
    let bytes = writer.into_inner().map_err(|error| error.into_error())?;
    Ok(csv::Reader::from_reader(bytes.as_slice())
        .headers()?
        .clone())
}

/// Replaces the log at `path` with `header` (if any) and `rows`, atomically.
fn rewrite(
    path: &Path,
    header: Option<&StringRecord>,
    rows: &[StringRecord],
) -> anyhow::Result<()> {
    let mut rewrite = csv::Writer::from_writer(Vec::new());
    if let Some(header) = header {
        rewrite.write_record(header)?;
        for row in rows {
            rewrite.write_record(row)?;
        }
    }
    let bytes = rewrite.into_inner().map_err(|error| error.into_error())?;
    write_atomically(path, bytes)
}

/// Every readable row of a run's `log.csv`, columns matched by name.
pub fn read_log<L: DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<LoggedStep<L>>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let header = reader.headers()?.clone();
    Ok(reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|record| {
            Some(LoggedStep {
                position: record.deserialize(Some(&header)).ok()?,
                losses: record.deserialize(Some(&header)).ok()?,
            })
        })
        .collect())
}

/// Every row of a `log.csv` of any columns, as its fields.
pub fn read_log_rows(path: &Path) -> anyhow::Result<Vec<Vec<String>>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(reader
        .records()
        .filter_map(Result::ok)
        .map(|record| record.iter().map(str::to_owned).collect())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Losses {
        loss: f32,
    }

    fn position(step: u64) -> Position {
        Position {
            step,
            epoch: 1,
            batch: step as usize,
            batches: 9,
            elapsed_s: step as f64 / 10.0,
        }
    }

    #[test]
    fn resuming_drops_later_rows_and_damaged_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        let mut log = StepLog::open(&path, 0).unwrap();
        for step in 1..=5 {
            log.write(&position(step), &Losses { loss: step as f32 }, &[])
                .unwrap();
        }
        drop(log);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("step,epoch,batch,batches,elapsed_s,loss\n"),
            "{text}"
        );
        std::fs::write(&path, text.replace("2,1,2,9,0.2,2", "2,1,oops")).unwrap();

        let mut log = StepLog::open(&path, 3).unwrap();
        log.write(&position(4), &Losses { loss: 40.0 }, &[])
            .unwrap();
        let rows: Vec<LoggedStep<Losses>> = read_log(&path).unwrap();
        let steps: Vec<u64> = rows.iter().map(|row| row.step).collect();
        assert_eq!(steps, [1, 3, 4]);
        assert_eq!(rows[2].losses.loss, 40.0);
    }

    #[test]
    fn a_resumed_log_gains_new_columns_without_losing_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        let mut log = StepLog::open(&path, 0).unwrap();
        for step in 1..=3 {
            log.write(&position(step), &Losses { loss: 1.0 }, &[])
                .unwrap();
        }
        drop(log);
        let mut log = StepLog::open(&path, 2).unwrap();
        log.write(&position(3), &Losses { loss: 2.0 }, &[("lr", 0.5)])
            .unwrap();
        log.write(&position(4), &Losses { loss: 3.0 }, &[("lr", 0.25)])
            .unwrap();
        drop(log);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "step,epoch,batch,batches,elapsed_s,loss,lr\n\
             1,1,1,9,0.1,1.0,\n\
             2,1,2,9,0.2,1.0,\n\
             3,1,3,9,0.3,2.0,0.5\n\
             4,1,4,9,0.4,3.0,0.25\n"
        );
    }
}
