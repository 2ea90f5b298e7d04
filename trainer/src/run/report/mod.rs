//! `facegan report RUN_DIR...`: a run (or several, overlaid) at a glance. Writes
//! `report.html` with PNG plots beside it in `report/`: the model's curves as its
//! `plots.json` groups them, learning rates, images per second, the diversity check, FID over
//! time when the run has `fid.csv`, the sample grids as a timeline, and the config. The
//! trainer refreshes a run's report at every epoch end.

mod canvas;
mod page;
mod panels;
mod plot;
mod records;
mod series;
mod timeline;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};

use crate::atomic_file::write_atomically;
use page::{Grid, Page, PanelData, ReportData, RunSummary};
use records::RunRecord;

pub use page::DATA_ID;
pub use panels::{FID_FILE, Guide, IMAGES_PER_SECOND, PLOTS_FILE, Panel, Plots};
pub use series::XAxis;

pub const REPORT_FILE: &str = "report.html";
/// The folder beside `report.html` that holds its pictures.
pub const REPORT_ASSETS: &str = "report";
/// How often an open page reloads itself while its run trains.
const RELOAD_SECONDS: u32 = 60;

#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// Run folders (`facegan train --out`); two or more are overlaid in one report.
    #[arg(required = true, value_name = "RUN_DIR")]
    pub runs: Vec<PathBuf>,
    /// Folder to write `report.html` in: by default the run's own; required for several runs.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// What the horizontal axis counts (`minutes` for equal-time comparisons).
    #[arg(long, value_enum, default_value_t = XAxis::default())]
    pub x: XAxis,
}

/// How the page came to be, said at its top.
#[derive(Debug, Clone)]
pub enum Status {
    /// Written by a training run at an epoch end: the open page reloads itself.
    Training,
    /// Written by a training run as it stopped, with how.
    Ended(String),
    /// Written by `facegan report`.
    Requested,
}

pub fn run(args: &ReportArgs) -> anyhow::Result<()> {
    let out = match (&args.out, args.runs.as_slice()) {
        (Some(out), _) => out.clone(),
        (None, [run]) => run.clone(),
        (None, _) => bail!(
            "{} runs to compare: say where their report goes with --out FOLDER",
            args.runs.len()
        ),
    };
    let started = Instant::now();
    let path = write_report(&args.runs, &out, args.x, Status::Requested)?;
    log::info!(
        "wrote {} in {:.2}s; open it in a browser",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Rewrites a run's own report (the trainer, at epoch ends and when it stops).
pub fn refresh(run_dir: &Path, status: Status) -> anyhow::Result<PathBuf> {
    write_report(&[run_dir.to_path_buf()], run_dir, XAxis::Step, status)
}

/// Writes `out/report.html` (and its pictures in `out/report/`) for `runs`; returns its path.
pub fn write_report(
    runs: &[PathBuf],
    out: &Path,
    axis: XAxis,
    status: Status,
) -> anyhow::Result<PathBuf> {
    let mut records = runs
        .iter()
        .map(|dir| RunRecord::read(dir))
        .collect::<anyhow::Result<Vec<_>>>()?;
    name_apart(&mut records);
    let assets = out.join(REPORT_ASSETS);
    std::fs::create_dir_all(&assets)
        .with_context(|| format!("cannot create {}", assets.display()))?;

    let (panels, not_plotted) = draw_panels(&records, &assets, axis)?;
    let data = ReportData {
        x_axis: axis.label(),
        runs: records.iter().map(summary).collect(),
        panels,
    };
    let single = records.len() == 1;
    let own_folder = single && same_folder(&records[0].dir, out);
    let timeline = match &records[..] {
        [run] if !run.samples.is_empty() => {
            timeline::write_timeline(&run.samples, &assets.join("timeline.png"))?;
            Some(format!("{REPORT_ASSETS}/timeline.png"))
        }
        _ => None,
    };
    let grids = if own_folder {
        // The page sits in the run folder: its grids are linked where they are.
        records[0]
            .samples
            .iter()
            .map(|(epoch, path)| Grid {
                caption: format!("epoch {epoch}"),
                src: relative_to(&records[0].dir, path),
            })
            .collect()
    } else {
        last_grids(&records, &assets)?
    };
    let names: Vec<&str> = records.iter().map(|run| run.name.as_str()).collect();
    let title = if single {
        format!("facegan run {}", names[0])
    } else {
        format!("facegan runs {}", names.join(", "))
    };
    let last_step = records
        .iter()
        .filter_map(|run| run.log.rows.last())
        .map(|row| row.0)
        .max();
    let (status, reload_seconds) = match status {
        Status::Training => (
            format!(
                "Training: facegan train rewrites this page at every epoch end (last at step {}); \
                 an open page reloads itself every {RELOAD_SECONDS} s.",
                last_step.unwrap_or(0)
            ),
            Some(RELOAD_SECONDS),
        ),
        Status::Ended(how) => (how, None),
        Status::Requested => (
            "Written by facegan report from the runs' files.".to_owned(),
            None,
        ),
    };
    let configs = records
        .iter()
        .filter_map(|run| {
            let config = run.config.as_ref()?;
            Some((run.name.clone(), serde_json::to_string_pretty(config).ok()?))
        })
        .collect();
    let html = page::html(&Page {
        title,
        status,
        reload_seconds,
        data: &data,
        not_plotted,
        timeline,
        grids,
        configs,
    })?;
    let path = out.join(REPORT_FILE);
    write_atomically(&path, html)?;
    Ok(path)
}

/// Draws every panel any run has (matched by title, in order of first appearance) as
/// `assets/NN-title.png`; returns them and the panels with nothing to draw.
fn draw_panels(
    records: &[RunRecord],
    assets: &Path,
    axis: XAxis,
) -> anyhow::Result<(Vec<PanelData>, Vec<String>)> {
    let mut titles: Vec<&Panel> = Vec::new();
    for run in records {
        for panel in &run.plots.panels {
            if !titles.iter().any(|seen| seen.title == panel.title) {
                titles.push(panel);
            }
        }
    }
    let mut drawn = Vec::new();
    let mut not_plotted = Vec::new();
    for first in titles {
        let mut all_series = Vec::new();
        let mut labels = Vec::new();
        for run in records {
            let Some(panel) = run.plots.panels.iter().find(|p| p.title == first.title) else {
                continue;
            };
            for series in series::panel_series(run, panel, axis) {
                labels.push(match (records.len(), panel.columns.len()) {
                    (1, _) => series.column.clone(),
                    (_, 1) => run.name.clone(),
                    _ => format!("{}: {}", run.name, series.column),
                });
                all_series.push(series);
            }
        }
        if all_series.is_empty() {
            not_plotted.push(format!("{} (no {} data)", first.title, first.file));
            continue;
        }
        let curves: Vec<plot::Curve> = all_series
            .iter()
            .zip(labels)
            .enumerate()
            .map(|(index, (series, label))| plot::Curve {
                label,
                series,
                colour: plot::PALETTE[index % plot::PALETTE.len()],
            })
            .collect();
        let file = format!("{:02}-{}.png", drawn.len() + 1, slug(&first.title));
        plot::draw_panel(
            &first.title,
            &curves,
            &first.guides,
            axis.label(),
            &assets.join(&file),
        )?;
        drawn.push(PanelData {
            title: first.title.clone(),
            image: format!("{REPORT_ASSETS}/{file}"),
            guides: first
                .guides
                .iter()
                .map(|guide| (guide.value, guide.label.clone()))
                .collect(),
            series: all_series,
        });
    }
    Ok((drawn, not_plotted))
}

fn summary(run: &RunRecord) -> RunSummary {
    let last = run.log.rows.last();
    let cell = |column: &str| {
        let index = run.log.column(column)?;
        last?.1[index]
    };
    let epochs_asked = run
        .config
        .as_ref()
        .and_then(|config| config.get("epochs")?.as_u64());
    let epoch = cell("epoch").map(|epoch| {
        let asked = epochs_asked.map_or(String::new(), |asked| format!(" of {asked}"));
        match (cell("batch"), cell("batches")) {
            (Some(batch), Some(batches)) if batch < batches => {
                format!("{epoch}{asked} (batch {batch}/{batches})")
            }
            _ => format!("{epoch}{asked}"),
        }
    });
    let mut speeds: Vec<f64> = series::images_per_second(run)
        .into_iter()
        .map(|(_, speed)| speed)
        .collect();
    speeds.sort_by(f64::total_cmp);
    let last_step = last.map(|row| row.0);
    RunSummary {
        name: run.name.clone(),
        kind: run.plots.kind.clone(),
        steps: run.log.rows.len(),
        last_step,
        epoch,
        training_seconds: cell("elapsed_s"),
        images_seen: last_step
            .filter(|_| run.plots.batch_size > 0)
            .map(|step| step * run.plots.batch_size as u64),
        median_images_per_second: speeds.get(speeds.len() / 2).copied(),
        problems: run.problems.clone(),
    }
}

/// Each run's last sample grid, copied beside the page (which may live elsewhere).
fn last_grids(records: &[RunRecord], assets: &Path) -> anyhow::Result<Vec<Grid>> {
    let mut grids = Vec::new();
    for run in records {
        let Some((epoch, path)) = run.samples.last() else {
            continue;
        };
        let file = format!("last-{}.png", slug(&run.name));
        std::fs::copy(path, assets.join(&file))
            .with_context(|| format!("cannot copy {}", path.display()))?;
        let step = run.epoch_ends().get(&(*epoch as u64)).copied();
        let when = match (step, step.and_then(|step| run.elapsed_at(step))) {
            (Some(step), Some(seconds)) => {
                format!(", step {step}, {}", page::duration(seconds))
            }
            _ => String::new(),
        };
        grids.push(Grid {
            caption: format!("{}: epoch {epoch}{when}", run.name),
            src: format!("{REPORT_ASSETS}/{file}"),
        });
    }
    Ok(grids)
}

/// Runs whose folders have the same name get `-2`, `-3`... so legends tell them apart.
fn name_apart(records: &mut [RunRecord]) {
    for index in 1..records.len() {
        let name = records[index].name.clone();
        let earlier = records[..index]
            .iter()
            .filter(|run| run.name == name)
            .count();
        if earlier > 0 {
            records[index].name = format!("{name}-{}", earlier + 1);
        }
    }
}

fn same_folder(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// `path` as a link from a page in `folder` (the grids of a run in its own folder).
fn relative_to(folder: &Path, path: &Path) -> String {
    path.strip_prefix(folder)
        .unwrap_or(path)
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// A file-name form of a title: lower case, words joined by `-`.
fn slug(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if words.is_empty() {
        "plot".to_owned()
    } else {
        words.join("-")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_become_file_names() {
        assert_eq!(slug("D(x) and D(G(z))"), "d-x-and-d-g-z");
        assert_eq!(
            slug("FID (scripts/fid-over-time.sh)"),
            "fid-scripts-fid-over-time-sh"
        );
        assert_eq!(slug("()"), "plot");
    }
}
