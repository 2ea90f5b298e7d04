//! `report.html`: one static page (plots and grids beside it, the plotted numbers embedded as
//! JSON) that opens from the file system with no network.

use std::fmt::Write;

use serde::Serialize;

use super::series::Series;

/// The id of the `<script type="application/json">` that holds [`ReportData`].
pub const DATA_ID: &str = "facegan-report-data";

/// The numbers the page's plots were drawn from, embedded in it.
#[derive(Debug, Serialize)]
pub struct ReportData {
    pub x_axis: &'static str,
    pub runs: Vec<RunSummary>,
    pub panels: Vec<PanelData>,
}

#[derive(Debug, Serialize)]
pub struct RunSummary {
    pub name: String,
    pub kind: String,
    pub steps: usize,
    pub last_step: Option<u64>,
    pub epoch: Option<String>,
    pub training_seconds: Option<f64>,
    pub images_seen: Option<u64>,
    pub median_images_per_second: Option<f64>,
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct PanelData {
    pub title: String,
    /// The PNG, relative to the page.
    pub image: String,
    pub guides: Vec<(f64, String)>,
    pub series: Vec<Series>,
}

/// A sample grid shown on the page.
pub struct Grid {
    pub caption: String,
    /// Relative to the page.
    pub src: String,
}

/// What the page shows besides the data.
pub struct Page<'a> {
    pub title: String,
    /// A line on how the page came to be (training and refreshing, or written by hand).
    pub status: String,
    /// Seconds between reloads while the run trains; `None` once it is done.
    pub reload_seconds: Option<u32>,
    pub data: &'a ReportData,
    /// Panels with nothing to plot, and why.
    pub not_plotted: Vec<String>,
    /// The timeline picture, relative to the page.
    pub timeline: Option<String>,
    /// Every epoch's grid (one run), or each run's last grid (several).
    pub grids: Vec<Grid>,
    /// (run name, pretty `config.json`).
    pub configs: Vec<(String, String)>,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1260px;\
padding:0 16px;color:#222;background:#fafafa}h1{font-size:1.5em}h2{font-size:1.15em;\
margin-top:2em;border-bottom:1px solid #ddd}table{border-collapse:collapse}td,th{padding:3px \
10px;border-bottom:1px solid #e5e5e5;text-align:right}th:first-child,td:first-child{text-align:\
left}.plots{display:flex;flex-wrap:wrap;gap:12px}.plots img{max-width:100%;border:1px solid \
#e0e0e0;background:#fff}.strip{display:flex;gap:10px;overflow-x:auto;padding-bottom:8px}.strip \
figure{margin:0;text-align:center;font-size:.85em}.strip img{height:160px;\
image-rendering:pixelated}.grids{display:flex;flex-wrap:wrap;gap:16px}.grids figure{margin:0}\
.grids img{max-width:560px;width:100%;image-rendering:pixelated}.problems{color:#a33}\
pre{background:#fff;border:1px solid #e0e0e0;padding:8px;overflow-x:auto;font-size:.85em}\
.status{color:#666}";

/// The page's HTML.
pub fn html(page: &Page) -> anyhow::Result<String> {
    let mut out = String::new();
    let title = escape(&page.title);
    writeln!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
    )?;
    if let Some(seconds) = page.reload_seconds {
        writeln!(out, "<meta http-equiv=\"refresh\" content=\"{seconds}\">")?;
    }
    writeln!(
        out,
        "<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>"
    )?;
    writeln!(out, "<h1>{title}</h1>")?;
    writeln!(out, "<p class=\"status\">{}</p>", escape(&page.status))?;

    summary_table(&mut out, &page.data.runs)?;
    for run in &page.data.runs {
        if !run.problems.is_empty() {
            writeln!(
                out,
                "<h2>Problems with {}'s files</h2>\n<ul class=\"problems\">",
                escape(&run.name)
            )?;
            for problem in &run.problems {
                writeln!(out, "<li>{}</li>", escape(problem))?;
            }
            writeln!(out, "</ul>")?;
        }
    }

    writeln!(out, "<h2>Curves</h2>\n<div class=\"plots\">")?;
    for panel in &page.data.panels {
        writeln!(
            out,
            "<img src=\"{}\" alt=\"{}\" width=\"{}\" height=\"{}\">",
            escape(&panel.image),
            escape(&panel.title),
            super::plot::WIDTH,
            super::plot::HEIGHT
        )?;
    }
    writeln!(out, "</div>")?;
    if !page.not_plotted.is_empty() {
        writeln!(
            out,
            "<p class=\"status\">Not plotted: {}.</p>",
            escape(&page.not_plotted.join("; "))
        )?;
    }

    writeln!(out, "<h2>Samples</h2>")?;
    let strip = page.data.runs.len() == 1 && page.grids.len() > 1;
    match (&page.timeline, strip) {
        // The strip shows every epoch; the picture (at most eight) is for documents.
        (Some(timeline), true) => writeln!(
            out,
            "<p class=\"status\">Every epoch's grid (click for the full size); \
             <a href=\"{}\">the timeline as one picture</a>.</p>",
            escape(timeline)
        )?,
        (Some(timeline), false) => writeln!(
            out,
            "<p><img src=\"{}\" alt=\"sample grids over the epochs\" style=\"max-width:100%\"></p>",
            escape(timeline)
        )?,
        (None, _) => {}
    }
    if strip {
        writeln!(out, "<div class=\"strip\">")?;
        for grid in &page.grids {
            writeln!(
                out,
                "<figure><a href=\"{0}\"><img src=\"{0}\" alt=\"{1}\" loading=\"lazy\"></a>\
                 <figcaption>{1}</figcaption></figure>",
                escape(&grid.src),
                escape(&grid.caption)
            )?;
        }
        writeln!(out, "</div>")?;
    }
    let largest: Vec<&Grid> = if page.data.runs.len() == 1 {
        page.grids.last().into_iter().collect()
    } else {
        page.grids.iter().collect()
    };
    if largest.is_empty() {
        writeln!(
            out,
            "<p class=\"status\">No sample grid yet (one is written at each epoch end).</p>"
        )?;
    } else {
        writeln!(out, "<div class=\"grids\">")?;
        for grid in largest {
            writeln!(
                out,
                "<figure><a href=\"{0}\"><img src=\"{0}\" alt=\"{1}\"></a><figcaption>{1}\
                 </figcaption></figure>",
                escape(&grid.src),
                escape(&grid.caption)
            )?;
        }
        writeln!(out, "</div>")?;
    }

    writeln!(out, "<h2>Configuration</h2>")?;
    for (name, config) in &page.configs {
        writeln!(
            out,
            "<details{}><summary>{} (config.json)</summary><pre>{}</pre></details>",
            if page.configs.len() == 1 { " open" } else { "" },
            escape(name),
            escape(config)
        )?;
    }
    // `</` would end the script element early; `<\/` is the same JSON string.
    let data = serde_json::to_string(page.data)?.replace("</", "<\\/");
    writeln!(
        out,
        "<script type=\"application/json\" id=\"{DATA_ID}\">{data}</script>\n</body>\n</html>"
    )?;
    Ok(out)
}

fn summary_table(out: &mut String, runs: &[RunSummary]) -> anyhow::Result<()> {
    writeln!(
        out,
        "<table>\n<tr><th>run</th><th>model</th><th>steps</th><th>epoch</th>\
         <th>training time</th><th>images seen</th><th>images/s (median)</th></tr>"
    )?;
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
    for run in runs {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&run.name),
            escape(&run.kind),
            or_dash(run.last_step.map(|step| step.to_string())),
            escape(&or_dash(run.epoch.clone())),
            or_dash(run.training_seconds.map(duration)),
            or_dash(run.images_seen.map(|images| images.to_string())),
            or_dash(
                run.median_images_per_second
                    .map(|speed| format!("{speed:.1}"))
            ),
        )?;
    }
    writeln!(out, "</table>")?;
    Ok(())
}

/// `1h 02m 05s`, `4m 10s`, `12.3s`.
pub fn duration(seconds: f64) -> String {
    let whole = seconds.round() as u64;
    match whole {
        0..60 => format!("{seconds:.1}s"),
        60..3600 => format!("{}m {:02}s", whole / 60, whole % 60),
        _ => format!(
            "{}h {:02}m {:02}s",
            whole / 3600,
            whole / 60 % 60,
            whole % 60
        ),
    }
}

/// Text made safe for HTML. (Five characters: not worth a crate.)
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_durations_read_naturally() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(duration(12.34), "12.3s");
        assert_eq!(duration(250.0), "4m 10s");
        assert_eq!(duration(3725.0), "1h 02m 05s");
    }
}
