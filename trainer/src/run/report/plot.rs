//! One panel drawn as a PNG with plotters: step curves smoothed over their faint raw points,
//! per-epoch figures as joined points, guide lines dashed, the legend above the chart where it
//! hides no point.

use std::path::Path;

use anyhow::anyhow;
use image::RgbImage;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{Canvas, FONT};
use super::panels::Guide;
use super::series::Series;
use crate::render::save_png_atomically;

pub const WIDTH: u32 = 600;
pub const HEIGHT: u32 = 300;
/// Raw points outside this share of the values (both tails) do not stretch the axis: one
/// early loss spike would flatten the rest of a run's curve.
const TAIL: f64 = 0.005;
const TITLE_SIZE: f64 = 18.0;
const TEXT_SIZE: f64 = 13.0;
/// Height of the title line and of each legend line above the chart.
const TITLE_BAND: u32 = 30;
const LEGEND_LINE: u32 = 20;
/// A legend entry's line sample, and the room between entries.
const SWATCH: i32 = 22;
const ENTRY_GAP: i32 = 18;

/// Colours of successive curves (Tableau 10: told apart in colour-blind views too).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];
const GUIDE_COLOUR: RGBColor = RGBColor(90, 90, 90);

/// A curve and its legend.
pub struct Curve<'a> {
    pub label: String,
    pub series: &'a Series,
    pub colour: RGBColor,
}

/// Draws `curves` and `guides` under `title` into the PNG at `path`.
pub fn draw_panel(
    title: &str,
    curves: &[Curve],
    guides: &[Guide],
    x_label: &str,
    path: &Path,
) -> anyhow::Result<()> {
    let mut pixels = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    draw(&mut pixels, title, curves, guides, x_label)
        .map_err(|error| anyhow!("cannot draw the plot {title:?}: {error}"))?;
    let image = RgbImage::from_raw(WIDTH, HEIGHT, pixels).expect("a buffer of the plot's size");
    save_png_atomically(&image, path)
}

/// One entry of the legend above the chart.
struct Entry {
    label: String,
    colour: RGBColor,
    dashed: bool,
}

fn draw(
    pixels: &mut [u8],
    title: &str,
    curves: &[Curve],
    guides: &[Guide],
    x_label: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = Canvas::new(pixels, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let entries: Vec<Entry> = curves
        .iter()
        .map(|curve| Entry {
            label: curve.label.clone(),
            colour: curve.colour,
            dashed: false,
        })
        .chain(guides.iter().map(|guide| Entry {
            label: format!("{} ({})", guide.label, compact(guide.value)),
            colour: GUIDE_COLOUR,
            dashed: true,
        }))
        .collect();
    let text = TextStyle::from((FONT, TEXT_SIZE).into_font());
    let widths = entries
        .iter()
        .map(|entry| Ok(root.estimate_text_size(&entry.label, &text)?.0 as i32))
        .collect::<Result<Vec<i32>, Box<dyn std::error::Error>>>()?;
    let lines = legend_lines(&widths, WIDTH as i32 - 40);
    let header_height = TITLE_BAND + LEGEND_LINE * lines.len() as u32;
    let (header, body) = root.split_vertically(header_height);
    let centred = |size: f64| {
        TextStyle::from((FONT, size).into_font())
            .color(&RGBColor(40, 40, 40))
            .pos(Pos::new(HPos::Center, VPos::Top))
    };
    header.draw(&Text::new(
        title,
        (WIDTH as i32 / 2, 6),
        centred(TITLE_SIZE),
    ))?;
    let label_style = text
        .clone()
        .color(&RGBColor(50, 50, 50))
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (row, line) in lines.iter().enumerate() {
        let total: i32 = line.iter().map(|&i| SWATCH + 6 + widths[i]).sum::<i32>()
            + ENTRY_GAP * (line.len() as i32 - 1);
        let mut x = (WIDTH as i32 - total) / 2;
        let y = (TITLE_BAND + LEGEND_LINE * row as u32 + LEGEND_LINE / 2) as i32;
        for &index in line {
            let entry = &entries[index];
            if entry.dashed {
                header.draw(&PathElement::new(
                    [(x, y), (x + 7, y)],
                    entry.colour.stroke_width(1),
                ))?;
                header.draw(&PathElement::new(
                    [(x + 13, y), (x + SWATCH, y)],
                    entry.colour.stroke_width(1),
                ))?;
            } else {
                header.draw(&PathElement::new(
                    [(x, y), (x + SWATCH, y)],
                    entry.colour.stroke_width(3),
                ))?;
            }
            header.draw(&Text::new(
                entry.label.as_str(),
                (x + SWATCH + 6, y),
                label_style.clone(),
            ))?;
            x += SWATCH + 6 + widths[index] + ENTRY_GAP;
        }
    }

    let (x_range, y_range) = ranges(curves, guides);
    let mut chart = ChartBuilder::on(&body)
        .margin(12)
        .margin_top(4)
        .x_label_area_size(38)
        .y_label_area_size(64)
        .build_cartesian_2d(x_range.clone(), y_range)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .x_labels(6)
        .y_labels(6)
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(218, 218, 218))
        .label_style((FONT, TEXT_SIZE))
        .axis_desc_style((FONT, TEXT_SIZE))
        .x_label_formatter(&|x| compact(*x))
        .y_label_formatter(&|y| compact(*y))
        .draw()?;
    for guide in guides {
        chart.draw_series(DashedLineSeries::new(
            [(x_range.start, guide.value), (x_range.end, guide.value)],
            6,
            5,
            GUIDE_COLOUR.stroke_width(1),
        ))?;
    }
    for curve in curves {
        let colour = curve.colour;
        let series = curve.series;
        let points = || series.x.iter().copied().zip(series.y.iter().copied());
        if !series.per_step {
            chart.draw_series(points().map(|point| Circle::new(point, 3, colour.filled())))?;
            chart.draw_series(LineSeries::new(points(), colour.stroke_width(2)))?;
        } else if series.window > 1 {
            chart.draw_series(LineSeries::new(points(), colour.mix(0.22).stroke_width(1)))?;
            let smoothed = series
                .x
                .iter()
                .copied()
                .zip(series.smoothed.iter().copied());
            chart.draw_series(LineSeries::new(smoothed, colour.stroke_width(2)))?;
        } else {
            chart.draw_series(LineSeries::new(points(), colour.stroke_width(2)))?;
        }
    }
    root.present()?;
    Ok(())
}

/// The legend's entries (by index) in lines no wider than `room` pixels.
fn legend_lines(widths: &[i32], room: i32) -> Vec<Vec<usize>> {
    let mut lines: Vec<Vec<usize>> = Vec::new();
    let mut used = 0;
    for (index, width) in widths.iter().enumerate() {
        let needed = SWATCH + 6 + width;
        match lines.last_mut() {
            Some(line) if used + ENTRY_GAP + needed <= room => {
                line.push(index);
                used += ENTRY_GAP + needed;
            }
            _ => {
                lines.push(vec![index]);
                used = needed;
            }
        }
    }
    lines
}

/// The axes' ranges: every x; y from the smoothed curves, the guides and the raw points
/// without their extreme tails, with a margin.
fn ranges(curves: &[Curve], guides: &[Guide]) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
    let xs = curves
        .iter()
        .flat_map(|curve| curve.series.x.iter().copied());
    let (x_min, x_max) = bounds(xs).unwrap_or((0.0, 1.0));
    let mut ys: Vec<f64> = guides.iter().map(|guide| guide.value).collect();
    for curve in curves {
        let series = curve.series;
        if series.per_step && series.window > 1 {
            ys.extend(&series.smoothed);
            let mut raw = series.y.clone();
            raw.sort_by(f64::total_cmp);
            let cut = (raw.len() as f64 * TAIL) as usize;
            ys.extend(&raw[cut..raw.len() - cut]);
        } else {
            ys.extend(&series.y);
        }
    }
    let (y_min, y_max) = bounds(ys.into_iter()).unwrap_or((0.0, 1.0));
    // Points an epoch are drawn as dots: room so the first and last are not cut in half.
    let x_share = if curves.iter().any(|curve| !curve.series.per_step) {
        0.02
    } else {
        0.0
    };
    (padded(x_min, x_max, x_share), padded(y_min, y_max, 0.06))
}

fn bounds(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |range, value| match range {
        None => Some((value, value)),
        Some((low, high)) => Some((low.min(value), high.max(value))),
    })
}

/// `[low, high]` widened by `share` of its span each side (a flat curve gets a span of its own).
fn padded(low: f64, high: f64, share: f64) -> std::ops::Range<f64> {
    // A constant curve (a learning rate) smoothed by sums differs from itself by rounding
    // error only: that must not become the whole axis.
    if high - low > 1e-9 * low.abs().max(high.abs()) {
        let pad = (high - low) * share;
        (low - pad)..(high + pad)
    } else {
        let pad = if low == 0.0 { 1.0 } else { low.abs() * 0.1 };
        (low - pad)..(high + pad)
    }
}

/// A tick label: short, whatever the scale (1.5k, 0.0002, 3.2e-6).
fn compact(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude == 0.0 {
        "0".to_owned()
    } else if magnitude >= 1e6 {
        format!("{}M", trimmed(value / 1e6, 2))
    } else if magnitude >= 1e4 {
        format!("{}k", trimmed(value / 1e3, 1))
    } else if magnitude >= 1.0 {
        trimmed(value, 2)
    } else if magnitude >= 1e-4 {
        trimmed(value, 5)
    } else {
        format!("{value:.1e}")
    }
}

fn trimmed(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_stay_short_at_every_scale() {
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(12_500.0), "12.5k");
        assert_eq!(compact(2.0e6), "2M");
        assert_eq!(compact(0.75), "0.75");
        assert_eq!(compact(0.0002), "0.0002");
        assert_eq!(compact(3.0e-6), "3.0e-6");
        assert_eq!(compact(1.25), "1.25");
    }

    #[test]
    fn a_flat_curve_gets_an_axis_of_its_own() {
        let range = padded(2e-4, 2e-4 + 1e-20, 0.06);
        assert!((range.start - 1.8e-4).abs() < 1e-12 && (range.end - 2.2e-4).abs() < 1e-12);
        assert_eq!(padded(0.0, 0.0, 0.06), -1.0..1.0);
        assert_eq!(padded(0.0, 10.0, 0.1), -1.0..11.0);
    }

    #[test]
    fn the_legend_wraps_to_the_room_it_has() {
        // Entries take 28 + width; 18 between them.
        assert_eq!(legend_lines(&[100, 100, 100], 300), [vec![0, 1], vec![2]]);
        assert_eq!(legend_lines(&[500], 300), [vec![0]]);
        assert!(legend_lines(&[], 300).is_empty());
    }
}
