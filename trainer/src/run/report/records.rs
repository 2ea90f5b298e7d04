//! A run's files read back for the report: `log.csv` and the per-epoch tables as numbers keyed
//! by step or epoch, the config, the sample grids. What cannot be read is listed, never fatal:
//! a report of a damaged run is how its owner finds the damage.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::panels::{FID_FILE, Panel, Plots};
use crate::run::LOG_FILE;
use crate::run::samples::SAMPLES_DIR;

const CONFIG_FILE: &str = "config.json";
/// The driver's columns of `log.csv`; the model's follow.
const POSITION_COLUMNS: [&str; 5] = ["step", "epoch", "batch", "batches", "elapsed_s"];
/// The face GANs' per-epoch diversity file, as runs from before `plots.json` have it (its
/// panel is `face_gan::diversity_panel`, which this module cannot name without a cycle).
const OLD_DIVERSITY: (&str, &str, &str) = (
    "Diversity of the samples (of real)",
    "diversity.csv",
    "ratio",
);

/// A CSV file of numbers, one row per key (step or epoch), in key order.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<String>,
    /// (key, one value per column; `None` where the cell is empty or not a finite number).
    pub rows: Vec<(u64, Vec<Option<f64>>)>,
}

impl Table {
    /// The index of `column`.
    pub fn column(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|name| name == column)
    }

    /// The keys and finite values of `column`.
    pub fn values(&self, column: &str) -> Vec<(u64, f64)> {
        let Some(index) = self.column(column) else {
            return Vec::new();
        };
        self.rows
            .iter()
            .filter_map(|(key, values)| Some((*key, values[index]?)))
            .collect()
    }
}

/// Reads the CSV at `path`, keyed by its column `key`. Unreadable lines are skipped; a key seen
/// twice keeps the later line (a resumed run rewrites the steps after its checkpoint). Every
/// such finding is appended to `problems`, naming the file and line.
pub fn read_table(path: &Path, key: &str, problems: &mut Vec<String>) -> Option<Table> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let mut reader = match csv::ReaderBuilder::new().flexible(true).from_path(path) {
        Ok(reader) => reader,
        Err(error) => {
            if path.exists() {
                problems.push(format!("{name}: cannot be read ({error})"));
            }
            return None;
        }
    };
    let columns: Vec<String> = match reader.headers() {
        Ok(header) => header.iter().map(str::to_owned).collect(),
        Err(error) => {
            problems.push(format!("{name}: no readable header ({error})"));
            return None;
        }
    };
    let Some(key_index) = columns.iter().position(|column| column == key) else {
        problems.push(format!("{name}: no `{key}` column in its header"));
        return None;
    };
    let mut rows: BTreeMap<u64, (usize, Vec<Option<f64>>)> = BTreeMap::new();
    let mut not_numbers = vec![0usize; columns.len()];
    for (index, record) in reader.records().enumerate() {
        // Line numbers as an editor shows them: the header is line 1.
        let line = index + 2;
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                problems.push(format!("{name} line {line}: unreadable ({error}); skipped"));
                continue;
            }
        };
        if record.len() != columns.len() {
            problems.push(format!(
                "{name} line {line}: {} fields where the header has {}; skipped",
                record.len(),
                columns.len()
            ));
            continue;
        }
        let Some(row_key) = record[key_index].trim().parse::<u64>().ok() else {
            problems.push(format!(
                "{name} line {line}: {key} `{}` is not a whole number; skipped",
                &record[key_index]
            ));
            continue;
        };
        let values = record
            .iter()
            .enumerate()
            .map(|(column, cell)| {
                let cell = cell.trim();
                if cell.is_empty() {
                    // Columns added after a run began are empty in its earlier rows.
                    return None;
                }
                let value = cell.parse::<f64>().ok().filter(|value| value.is_finite());
                if value.is_none() {
                    not_numbers[column] += 1;
                }
                value
            })
            .collect();
        if let Some((earlier, _)) = rows.insert(row_key, (line, values)) {
            problems.push(format!(
                "{name}: {key} {row_key} is on lines {earlier} and {line}; line {line} is plotted"
            ));
        }
    }
    for (column, count) in not_numbers.iter().enumerate() {
        if *count > 0 {
            problems.push(format!(
                "{name}: {count} value(s) of {} are not finite numbers (NaN, inf or text) and \
                 are not plotted",
                columns[column]
            ));
        }
    }
    Some(Table {
        columns,
        rows: rows
            .into_iter()
            .map(|(key, (_, values))| (key, values))
            .collect(),
    })
}

/// Everything the report shows of one run.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// How the run is named in legends: its folder's name.
    pub name: String,
    pub dir: PathBuf,
    pub plots: Plots,
    /// `log.csv`, keyed by step; empty when the run has no log yet.
    pub log: Table,
    /// The per-epoch files the panels name, by file name.
    pub epoch_tables: BTreeMap<String, Table>,
    /// `config.json`, as written.
    pub config: Option<serde_json::Value>,
    /// The epochs' sample grids, in epoch order.
    pub samples: Vec<(usize, PathBuf)>,
    /// What could not be read, file and line named.
    pub problems: Vec<String>,
}

impl RunRecord {
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        anyhow::ensure!(
            dir.is_dir(),
            "{} is not a folder: `facegan report` takes the folders `facegan train --out` wrote",
            dir.display()
        );
        let mut problems = Vec::new();
        let config = read_config(dir, &mut problems);
        let log_path = dir.join(LOG_FILE);
        let log = if log_path.exists() {
            read_table(&log_path, "step", &mut problems).unwrap_or_default()
        } else {
            problems.push(format!(
                "no {LOG_FILE} yet: the run has not finished a step"
            ));
            Table::default()
        };
        let plots = match Plots::read(dir) {
            Ok(Some(plots)) => plots,
            Ok(None) => plots_of_an_older_run(dir, &log, config.as_ref()),
            Err(error) => {
                problems.push(format!("{error:#}; plotting every column alone"));
                plots_of_an_older_run(dir, &log, config.as_ref())
            }
        };
        let mut epoch_tables = BTreeMap::new();
        for panel in plots.panels.iter().filter(|panel| !panel.per_step()) {
            let path = dir.join(&panel.file);
            if !epoch_tables.contains_key(&panel.file)
                && path.exists()
                && let Some(table) = read_table(&path, "epoch", &mut problems)
            {
                epoch_tables.insert(panel.file.clone(), table);
            }
        }
        let name = dir
            .canonicalize()
            .unwrap_or_else(|_| dir.to_path_buf())
            .file_name()
            .map_or_else(
                || "run".to_owned(),
                |name| name.to_string_lossy().into_owned(),
            );
        Ok(Self {
            name,
            dir: dir.to_path_buf(),
            plots,
            log,
            epoch_tables,
            config,
            samples: sample_grids(dir),
            problems,
        })
    }

    /// The last step logged in each epoch (1-based epochs), for plotting per-epoch figures
    /// where their epoch ended.
    pub fn epoch_ends(&self) -> BTreeMap<u64, u64> {
        let mut ends = BTreeMap::new();
        if let Some(epoch) = self.log.column("epoch") {
            for (step, values) in &self.log.rows {
                if let Some(value) = values[epoch] {
                    ends.insert(value as u64, *step);
                }
            }
        }
        ends
    }

    /// Training time at `step` in seconds (resumes included), where the log has the step.
    pub fn elapsed_at(&self, step: u64) -> Option<f64> {
        let column = self.log.column("elapsed_s")?;
        let index = self
            .log
            .rows
            .binary_search_by_key(&step, |row| row.0)
            .ok()?;
        self.log.rows[index].1[column]
    }
}

fn read_config(dir: &Path, problems: &mut Vec<String>) -> Option<serde_json::Value> {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).ok()?;
    match serde_json::from_str(&text) {
        Ok(config) => Some(config),
        Err(error) => {
            problems.push(format!("{CONFIG_FILE}: not JSON ({error})"));
            None
        }
    }
}

/// Panels for a run from before `plots.json`: each of the model's columns alone, the speed,
/// and the per-epoch files it has.
fn plots_of_an_older_run(dir: &Path, log: &Table, config: Option<&serde_json::Value>) -> Plots {
    let mut panels: Vec<Panel> = log
        .columns
        .iter()
        .filter(|column| !POSITION_COLUMNS.contains(&column.as_str()))
        .map(|column| Panel::steps(column, &[column]))
        .collect();
    panels.push(Panel::speed());
    let (title, file, column) = OLD_DIVERSITY;
    if dir.join(file).exists() {
        panels.push(Panel::epochs(title, file, &[column]));
    }
    if dir.join(FID_FILE).exists() {
        panels.push(Panel::fid());
    }
    let batch_size = config
        .and_then(|config| config.get("batch_size")?.as_u64())
        .unwrap_or(0) as usize;
    Plots {
        kind: "unknown".to_owned(),
        batch_size,
        panels,
    }
}

/// `samples/epoch_NNN.png`, in epoch order.
fn sample_grids(dir: &Path) -> Vec<(usize, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir.join(SAMPLES_DIR)) else {
        return Vec::new();
    };
    let mut grids: Vec<(usize, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let epoch = name
                .strip_prefix("epoch_")?
                .strip_suffix(".png")?
                .parse()
                .ok()?;
            Some((epoch, entry.path()))
        })
        .collect();
    grids.sort();
    grids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_lines_are_listed_and_repeated_steps_keep_the_later_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        std::fs::write(
            &path,
            "step,loss\n1,0.5\n2,oops\n3\nx,0.1\n2,0.25\n4,NaN\n5,,\n5,0.75\n",
        )
        .unwrap();
        let mut problems = Vec::new();
        let table = read_table(&path, "step", &mut problems).unwrap();
        assert_eq!(table.values("loss"), [(1, 0.5), (2, 0.25), (5, 0.75)]);
        let keys: Vec<u64> = table.rows.iter().map(|row| row.0).collect();
        assert_eq!(keys, [1, 2, 4, 5]);
        let text = problems.join("\n");
        for expected in [
            "log.csv line 4: 1 fields where the header has 2",
            "log.csv line 5: step `x` is not a whole number",
            "log.csv line 8: 3 fields",
            "log.csv: step 2 is on lines 3 and 6; line 6 is plotted",
            "2 value(s) of loss are not finite numbers",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
    }
}
