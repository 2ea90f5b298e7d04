use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::Context;

pub const LOG_FILE: &str = "log.csv";
/// The DCGAN log's columns; other modes name their own (see [`StepLog::open_with_header`]).
const HEADER: &str = "step,epoch,batch,batches,elapsed_s,d_loss,g_loss,d_x,d_g_z";

/// One line of `log.csv`: what a step did. `epoch` and `batch` are 1-based as printed.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRow {
    pub step: u64,
    pub epoch: usize,
    pub batch: usize,
    pub batches: usize,
    pub elapsed_s: f64,
    pub d_loss: f32,
    pub g_loss: f32,
    pub d_x: f32,
    pub d_g_z: f32,
}

impl StepRow {
    pub fn parse(line: &str) -> Option<Self> {
        let fields: Vec<&str> = line.split(',').collect();
        let [
            step,
            epoch,
            batch,
            batches,
            elapsed,
            d_loss,
            g_loss,
            d_x,
            d_g_z,
        ] = fields[..]
        else {
            return None;
        };
        Some(Self {
            step: step.parse().ok()?,
            epoch: epoch.parse().ok()?,
            batch: batch.parse().ok()?,
            batches: batches.parse().ok()?,
            elapsed_s: elapsed.parse().ok()?,
            d_loss: d_loss.parse().ok()?,
            g_loss: g_loss.parse().ok()?,
            d_x: d_x.parse().ok()?,
            d_g_z: d_g_z.parse().ok()?,
        })
    }
}

/// Appends step rows to `log.csv`, flushing each so a crash loses at most one line.
pub struct StepLog {
    writer: BufWriter<File>,
}

impl StepLog {
    /// Opens the log of a run; when resuming after `keep_up_to_step`, rows past that step
    /// (written after the checkpoint being resumed) are dropped so the log stays consistent.
    pub fn open(path: &Path, keep_up_to_step: u64) -> anyhow::Result<Self> {
        Self::open_with_header(path, HEADER, keep_up_to_step)
    }

    /// [`StepLog::open`] for a log of other columns; the first column must be the step.
    pub fn open_with_header(
        path: &Path,
        header: &str,
        keep_up_to_step: u64,
    ) -> anyhow::Result<Self> {
        let kept: Vec<String> = if path.exists() {
            let file =
                File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
            BufReader::new(file)
                .lines()
                .skip(1)
                .map_while(Result::ok)
                .filter(|line| {
                    let step = line.split(',').next().and_then(|s| s.parse::<u64>().ok());
                    step.is_some_and(|step| step <= keep_up_to_step)
                })
                .collect()
        } else {
            Vec::new()
        };
        let temporary = path.with_extension("csv.tmp");
        {
            let mut out = BufWriter::new(File::create(&temporary)?);
            writeln!(out, "{header}")?;
            for line in kept {
                writeln!(out, "{line}")?;
            }
        }
        fs::rename(&temporary, path)?;
        let file = OpenOptions::new().append(true).open(path)?;
        Ok(Self {
            writer: BufWriter::new(file),
        })
    }

    /// Appends one pre-formatted line.
    pub fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        writeln!(self.writer, "{line}")?;
        self.writer.flush()
    }

    pub fn write(&mut self, row: &StepRow) -> std::io::Result<()> {
        writeln!(
            self.writer,
            "{},{},{},{},{:.3},{:.5},{:.5},{:.4},{:.4}",
            row.step,
            row.epoch,
            row.batch,
            row.batches,
            row.elapsed_s,
            row.d_loss,
            row.g_loss,
            row.d_x,
            row.d_g_z
        )?;
        self.writer.flush()
    }
}

/// Reads every row of a run's `log.csv`.
pub fn read_log(path: &Path) -> anyhow::Result<Vec<StepRow>> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text.lines().skip(1).filter_map(StepRow::parse).collect())
}

/// Reads every row of a `log.csv` of any columns, as its fields.
pub fn read_log_rows(path: &Path) -> anyhow::Result<Vec<Vec<String>>> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .skip(1)
        .map(|line| line.split(',').map(str::to_owned).collect())
        .collect())
}
