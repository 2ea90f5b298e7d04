//! Roughening: XDoG drawings of real faces made to look like what a person draws on the pad.
//! XDoG keeps every hair strand and shading edge; a person draws outlines (a face contour, a
//! fringe, two eyes) with a round brush, leaves parts out and wobbles. Both sketch modes train
//! on these, so that the pad's drawings are not a foreign input.
//!
//! The steps, at the face's side (64 px), then drawn on a pad-sized canvas:
//! 1. flat colour regions (k-means of the blurred colours, small islands merged) and their
//!    boundaries: hair becomes the outline of a mass, not its strands;
//! 2. usually XDoG's compact marks on top (eyes, brows, mouth), never its long strands;
//! 3. thinned to centre lines, short fragments dropped, random strokes dropped;
//! 4. each stroke's points smoothed along the stroke (simplified contours) and moved by a small
//!    smooth warp;
//! 5. re-stroked with a round brush of a pad brush width on a canvas `PAD_SCALE` times larger,
//!    then averaged down as the page averages its canvas (`sketch_input`).

use image::{GrayImage, RgbImage};

use facegan_model::SplitMix64;
use facegan_model::translate::block_average;

/// The pad's canvas is this many times the model's side (256 px for 64 px faces).
pub const PAD_SCALE: u32 = 4;

/// Ranges the per-sketch choices are drawn from; the defaults follow the pad (brush 2 to 16 px
/// on a 256 px canvas, 6 by default) and what people were seen to draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Roughen {
    /// Flat colour regions: from..=to.
    pub regions: (usize, usize),
    /// Chance that XDoG's compact marks are kept beside the region boundaries.
    pub keep_lines: f64,
    /// XDoG marks at most this wide and tall (pixels at the face's side) count as compact.
    pub mark_extent: usize,
    /// Strokes shorter than this many pixels (at the face's side) are dropped: from..=to.
    pub min_stroke: (usize, usize),
    /// Chance of dropping each remaining stroke: up to this, drawn per sketch.
    pub drop_stroke: f64,
    /// Brush width on the pad's canvas, in its pixels: from..=to.
    pub brush: (u32, u32),
    /// Largest displacement of the smooth warp, in pixels at the face's side.
    pub warp: f32,
    /// Smoothing passes along each stroke: from..=to.
    pub smoothing: (usize, usize),
}

impl Default for Roughen {
    fn default() -> Self {
        Self {
            regions: (2, 3),
            keep_lines: 0.8,
            mark_extent: 20,
            min_stroke: (6, 16),
            drop_stroke: 0.35,
            brush: (5, 12),
            warp: 1.5,
            smoothing: (1, 4),
        }
    }
}

impl Roughen {
    /// The rough drawing of `face` (RGB, square) given its XDoG `lines` (the same size), for
    /// `seed`: the same seed gives the same drawing. White paper (255) with dark strokes.
    pub fn sketch(&self, face: &RgbImage, lines: &GrayImage, seed: u64) -> GrayImage {
        let side = face.width() as usize;
        assert_eq!(face.height() as usize, side, "faces are square");
        assert_eq!(
            lines.dimensions(),
            face.dimensions(),
            "lines match the face"
        );
        let mut rng = SplitMix64::new(seed ^ 0x5255_4748);
        let regions = between(&mut rng, self.regions);
        let labels = smooth_labels(
            &merge_islands(&colour_regions(face, regions, &mut rng), side),
            side,
        );
        let outlines = thin(&boundaries(&labels, side), side);
        let min_stroke = between(&mut rng, self.min_stroke);
        let drop = rng.uniform(0.0, self.drop_stroke);
        let mut strokes = components(&outlines, side);
        // Longest first: the few longest (face, hair outline) always stay, so no drawing
        // comes out blank.
        strokes.sort_by_key(|stroke| std::cmp::Reverse(stroke.len()));
        let mut strokes: Vec<Vec<usize>> = strokes
            .into_iter()
            .enumerate()
            .filter(|(rank, stroke)| {
                *rank < KEPT_STROKES || (stroke.len() >= min_stroke && !rng.chance(drop))
            })
            .map(|(_, stroke)| stroke)
            .collect();
        if rng.chance(self.keep_lines) {
            // XDoG's compact marks (eyes, brows, mouth), which people nearly always draw,
            // short as they are; never its long strokes, which are hair strands and shading.
            let ink: Vec<bool> = lines.as_raw().iter().map(|&v| v < 128).collect();
            let mut marks = vec![false; ink.len()];
            for mark in components(&ink, side) {
                if extent(&mark, side) <= self.mark_extent {
                    mark.iter().for_each(|&i| marks[i] = true);
                }
            }
            strokes.extend(
                components(&thin(&marks, side), side)
                    .into_iter()
                    .filter(|mark| mark.len() >= MIN_MARK && !rng.chance(drop / 2.0)),
            );
        }
        let smoothing = between(&mut rng, self.smoothing);
        let warp = Warp::new(&mut rng, self.warp, side as f32);
        let brush = between(&mut rng, (self.brush.0 as usize, self.brush.1 as usize)) as f32;
        let scale = PAD_SCALE as f32;
        let mut canvas = vec![255u8; side * side * (PAD_SCALE * PAD_SCALE) as usize];
        let canvas_side = side * PAD_SCALE as usize;
        for stroke in &strokes {
            let points = smooth_along(stroke, side, smoothing);
            let at = |i: usize| {
                let (x, y) = warp.apply(points[i]);
                (x * scale, y * scale)
            };
            for (i, &pixel) in stroke.iter().enumerate() {
                let mut alone = true;
                for (j, &other) in stroke.iter().enumerate().skip(i + 1) {
                    if neighbours(pixel, other, side) {
                        segment(&mut canvas, canvas_side, at(i), at(j), brush);
                        alone = false;
                    }
                }
                if alone {
                    segment(&mut canvas, canvas_side, at(i), at(i), brush);
                }
            }
        }
        // Averaged down as the page reads its pad.
        let small = block_average(&canvas, canvas_side, side);
        GrayImage::from_raw(side as u32, side as u32, small).expect("side * side values")
    }
}

/// Marks shorter than this (centre-line pixels) are specks, not eyes.
const MIN_MARK: usize = 3;

/// The longest strokes, never dropped.
const KEPT_STROKES: usize = 3;

/// A whole number in `range.0..=range.1`.
fn between(rng: &mut SplitMix64, (low, high): (usize, usize)) -> usize {
    low + rng.below(high - low + 1)
}

/// Region labels of the face's pixels: k-means of 3x3-blurred colours from random starts.
fn colour_regions(face: &RgbImage, k: usize, rng: &mut SplitMix64) -> Vec<usize> {
    let side = face.width() as usize;
    let pixel = |x: usize, y: usize| face.get_pixel(x as u32, y as u32).0.map(f32::from);
    let blurred: Vec<[f32; 3]> = (0..side * side)
        .map(|i| {
            let (x, y) = (i % side, i / side);
            let mut sum = [0.0f32; 3];
            let mut count = 0.0;
            for ny in y.saturating_sub(1)..=(y + 1).min(side - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(side - 1) {
                    let p = pixel(nx, ny);
                    (0..3).for_each(|c| sum[c] += p[c]);
                    count += 1.0;
                }
            }
            sum.map(|s| s / count)
        })
        .collect();
    let mut centres: Vec<[f32; 3]> = (0..k).map(|_| blurred[rng.below(blurred.len())]).collect();
    let mut labels = vec![0usize; blurred.len()];
    for _ in 0..8 {
        for (label, colour) in labels.iter_mut().zip(&blurred) {
            *label = nearest(&centres, colour);
        }
        let mut sums = vec![[0.0f32; 4]; k];
        for (&label, colour) in labels.iter().zip(&blurred) {
            (0..3).for_each(|c| sums[label][c] += colour[c]);
            sums[label][3] += 1.0;
        }
        for (centre, sum) in centres.iter_mut().zip(&sums) {
            if sum[3] > 0.0 {
                *centre = [sum[0] / sum[3], sum[1] / sum[3], sum[2] / sum[3]];
            }
        }
    }
    labels
}

fn nearest(centres: &[[f32; 3]], colour: &[f32; 3]) -> usize {
    let distance = |c: &[f32; 3]| (0..3).map(|i| (c[i] - colour[i]).powi(2)).sum::<f32>();
    (0..centres.len())
        .min_by(|&a, &b| distance(&centres[a]).total_cmp(&distance(&centres[b])))
        .expect("at least one centre")
}

/// Regions (4-connected runs of one label) smaller than `MIN_REGION` pixels join the label
/// they border most, smallest first, so boundaries follow masses (hair, face, background)
/// rather than shading and texture.
fn merge_islands(labels: &[usize], side: usize) -> Vec<usize> {
    let mut labels = labels.to_vec();
    for _ in 0..4 {
        let regions = regions_of(&labels, side);
        let mut changed = false;
        for region in regions.iter().filter(|r| r.len() < MIN_REGION) {
            let own = labels[region[0]];
            let mut votes = std::collections::BTreeMap::new();
            for &i in region {
                for j in four_neighbours(i, side) {
                    if labels[j] != own {
                        *votes.entry(labels[j]).or_insert(0usize) += 1;
                    }
                }
            }
            if let Some((&label, _)) = votes.iter().max_by_key(|&(&l, &n)| (n, usize::MAX - l)) {
                region.iter().for_each(|&i| labels[i] = label);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    labels
}

/// Regions smaller than this (pixels at 64 px) are merged into a neighbour.
const MIN_REGION: usize = 150;

fn four_neighbours(i: usize, side: usize) -> impl Iterator<Item = usize> {
    let (x, y) = (i % side, i / side);
    [
        (x > 0).then(|| i - 1),
        (x + 1 < side).then(|| i + 1),
        (y > 0).then(|| i - side),
        (y + 1 < side).then(|| i + side),
    ]
    .into_iter()
    .flatten()
}

/// The 4-connected regions of equal labels, each as its pixel indices, smallest first.
fn regions_of(labels: &[usize], side: usize) -> Vec<Vec<usize>> {
    let mut regions = connected(
        labels.len(),
        |_| true,
        |i| four_neighbours(i, side),
        |i, j| labels[i] == labels[j],
    );
    regions.sort_by_key(Vec::len);
    regions
}

/// Flood fill: from each pixel `include` takes that no group holds yet, the pixels reached
/// through `neighbours` where `joined` (from, to) holds; each group in the order reached.
fn connected<N: Iterator<Item = usize>>(
    len: usize,
    include: impl Fn(usize) -> bool,
    neighbours: impl Fn(usize) -> N,
    joined: impl Fn(usize, usize) -> bool,
) -> Vec<Vec<usize>> {
    let mut seen = vec![false; len];
    let mut groups = Vec::new();
    for start in 0..len {
        if seen[start] || !include(start) {
            continue;
        }
        seen[start] = true;
        let mut group = vec![start];
        let mut next = 0;
        while next < group.len() {
            let i = group[next];
            next += 1;
            for j in neighbours(i) {
                if !seen[j] && joined(i, j) {
                    seen[j] = true;
                    group.push(j);
                }
            }
        }
        groups.push(group);
    }
    groups
}

/// Two passes of a 5x5 majority vote: region outlines become smooth curves, as drawn, rather
/// than following every step of the shading.
fn smooth_labels(labels: &[usize], side: usize) -> Vec<usize> {
    let mut labels = labels.to_vec();
    let kinds = labels.iter().max().map_or(1, |&m| m + 1);
    for _ in 0..2 {
        let before = labels.clone();
        for y in 0..side {
            for x in 0..side {
                let mut votes = vec![0u8; kinds];
                for ny in y.saturating_sub(2)..=(y + 2).min(side - 1) {
                    for nx in x.saturating_sub(2)..=(x + 2).min(side - 1) {
                        votes[before[ny * side + nx]] += 1;
                    }
                }
                let own = before[y * side + x];
                let best = (0..kinds)
                    .max_by_key(|&l| (votes[l], l == own))
                    .unwrap_or(own);
                labels[y * side + x] = best;
            }
        }
    }
    labels
}

/// Pixels whose right or lower neighbour has another label.
fn boundaries(labels: &[usize], side: usize) -> Vec<bool> {
    (0..side * side)
        .map(|i| {
            let (x, y) = (i % side, i / side);
            (x + 1 < side && labels[i] != labels[i + 1])
                || (y + 1 < side && labels[i] != labels[i + side])
        })
        .collect()
}

/// Zhang-Suen thinning: ink reduced to one-pixel centre lines, connectivity kept.
fn thin(ink: &[bool], side: usize) -> Vec<bool> {
    let mut ink = ink.to_vec();
    let at = |ink: &[bool], x: isize, y: isize| {
        x >= 0
            && y >= 0
            && (x as usize) < side
            && (y as usize) < side
            && ink[y as usize * side + x as usize]
    };
    loop {
        let mut changed = false;
        for pass in 0..2 {
            let mut remove = Vec::new();
            for y in 0..side as isize {
                for x in 0..side as isize {
                    if !at(&ink, x, y) {
                        continue;
                    }
                    // P2..P9 clockwise from north.
                    let p = [
                        at(&ink, x, y - 1),
                        at(&ink, x + 1, y - 1),
                        at(&ink, x + 1, y),
                        at(&ink, x + 1, y + 1),
                        at(&ink, x, y + 1),
                        at(&ink, x - 1, y + 1),
                        at(&ink, x - 1, y),
                        at(&ink, x - 1, y - 1),
                    ];
                    let filled = p.iter().filter(|&&b| b).count();
                    let transitions = (0..8).filter(|&i| !p[i] && p[(i + 1) % 8]).count();
                    let (a, b) = if pass == 0 {
                        (p[0] && p[2] && p[4], p[2] && p[4] && p[6])
                    } else {
                        (p[0] && p[2] && p[6], p[0] && p[4] && p[6])
                    };
                    if (2..=6).contains(&filled) && transitions == 1 && !a && !b {
                        remove.push(y as usize * side + x as usize);
                    }
                }
            }
            changed |= !remove.is_empty();
            for i in remove {
                ink[i] = false;
            }
        }
        if !changed {
            return ink;
        }
    }
}

/// The larger of a pixel set's width and height.
fn extent(pixels: &[usize], side: usize) -> usize {
    let xs = pixels.iter().map(|&i| i % side);
    let ys = pixels.iter().map(|&i| i / side);
    let span = |v: Vec<usize>| v.iter().max().unwrap_or(&0) - v.iter().min().unwrap_or(&0) + 1;
    span(xs.collect()).max(span(ys.collect()))
}

fn neighbours(a: usize, b: usize, side: usize) -> bool {
    let (ax, ay) = ((a % side) as isize, (a / side) as isize);
    let (bx, by) = ((b % side) as isize, (b / side) as isize);
    a != b && (ax - bx).abs() <= 1 && (ay - by).abs() <= 1
}

/// The 8-connected strokes of a skeleton, each as its pixel indices.
fn components(skeleton: &[bool], side: usize) -> Vec<Vec<usize>> {
    connected(
        skeleton.len(),
        |i| skeleton[i],
        |i| eight_neighbours(i, side),
        |_, j| skeleton[j],
    )
}

/// The pixel `i` and its up to eight neighbours, row by row.
fn eight_neighbours(i: usize, side: usize) -> impl Iterator<Item = usize> {
    let (x, y) = (i % side, i / side);
    (y.saturating_sub(1)..=(y + 1).min(side - 1)).flat_map(move |ny| {
        (x.saturating_sub(1)..=(x + 1).min(side - 1)).map(move |nx| ny * side + nx)
    })
}

/// Pixel centres of a stroke, each pulled `passes` times halfway to its neighbours' mean:
/// stair steps and one-pixel wiggles flatten into the curve a hand would draw.
fn smooth_along(stroke: &[usize], side: usize, passes: usize) -> Vec<(f32, f32)> {
    let mut points: Vec<(f32, f32)> = stroke
        .iter()
        .map(|&i| ((i % side) as f32 + 0.5, (i / side) as f32 + 0.5))
        .collect();
    let links: Vec<Vec<usize>> = stroke
        .iter()
        .map(|&a| {
            (0..stroke.len())
                .filter(|&j| neighbours(a, stroke[j], side))
                .collect()
        })
        .collect();
    for _ in 0..passes {
        points = points
            .iter()
            .zip(&links)
            .map(|(&(x, y), links)| {
                if links.is_empty() {
                    return (x, y);
                }
                let n = links.len() as f32;
                let mx = links.iter().map(|&j| points[j].0).sum::<f32>() / n;
                let my = links.iter().map(|&j| points[j].1).sum::<f32>() / n;
                ((x + mx) / 2.0, (y + my) / 2.0)
            })
            .collect();
    }
    points
}

/// A smooth displacement field: two sine waves per axis with random directions and phases,
/// wavelengths of a third of the face to the whole of it.
struct Warp {
    waves: [[f32; 4]; 4],
}

impl Warp {
    fn new(rng: &mut SplitMix64, amplitude: f32, side: f32) -> Self {
        let amplitude = rng.uniform(0.0, f64::from(amplitude)) as f32 / 2.0;
        let waves = std::array::from_fn(|_| {
            let angle = rng.uniform(0.0, std::f64::consts::TAU) as f32;
            let wavelength = rng.uniform(f64::from(side) / 3.0, f64::from(side)) as f32;
            let k = std::f32::consts::TAU / wavelength;
            let phase = rng.uniform(0.0, std::f64::consts::TAU) as f32;
            [k * angle.cos(), k * angle.sin(), phase, amplitude]
        });
        Self { waves }
    }

    fn apply(&self, (x, y): (f32, f32)) -> (f32, f32) {
        let wave = |w: &[f32; 4]| w[3] * (w[0] * x + w[1] * y + w[2]).sin();
        (
            x + wave(&self.waves[0]) + wave(&self.waves[1]),
            y + wave(&self.waves[2]) + wave(&self.waves[3]),
        )
    }
}

/// Ink (0) every canvas pixel whose centre is within `width / 2` of the segment `a`-`b`: a
/// round brush dragged from `a` to `b`.
fn segment(canvas: &mut [u8], side: usize, a: (f32, f32), b: (f32, f32), width: f32) {
    let radius = width / 2.0;
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length2 = dx * dx + dy * dy;
    let low = |v: f32| (v - radius).floor().max(0.0) as usize;
    let high = |v: f32| ((v + radius).ceil().max(0.0) as usize).min(side);
    for y in low(a.1.min(b.1))..high(a.1.max(b.1)) {
        for x in low(a.0.min(b.0))..high(a.0.max(b.0)) {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let t = if length2 > 0.0 {
                (((px - a.0) * dx + (py - a.1) * dy) / length2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (cx, cy) = (a.0 + t * dx - px, a.1 + t * dy - py);
            if cx * cx + cy * cy <= radius * radius {
                canvas[y * side + x] = 0;
            }
        }
    }
}

/// Stroke statistics of a drawing, to compare drawings by figures: the ink's share of the
/// paper, the number of separate strokes (8-connected pieces of ink), the length of the
/// centre lines (pixels of the thinned ink, at the drawing's side), and the mean stroke width
/// (ink area over centre-line length).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StrokeStats {
    pub ink: f64,
    pub strokes: usize,
    pub length: usize,
    pub width: f64,
}

pub fn stroke_stats(sketch: &GrayImage) -> StrokeStats {
    let side = sketch.width() as usize;
    let ink: Vec<bool> = sketch.as_raw().iter().map(|&v| v < 128).collect();
    let area = ink.iter().filter(|&&b| b).count();
    let length = thin(&ink, side).iter().filter(|&&b| b).count();
    StrokeStats {
        ink: area as f64 / ink.len() as f64,
        strokes: components(&ink, side).len(),
        length,
        width: area as f64 / length.max(1) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_leaves_a_one_pixel_line_of_a_thick_bar() {
        let side = 16;
        let ink: Vec<bool> = (0..side * side)
            .map(|i| (6..10).contains(&(i / side)) && (2..14).contains(&(i % side)))
            .collect();
        let line = thin(&ink, side);
        for x in 4..12 {
            let column = (0..side).filter(|&y| line[y * side + x]).count();
            assert_eq!(column, 1, "column {x}");
        }
        assert_eq!(components(&line, side).len(), 1);
    }

    #[test]
    fn a_segment_is_as_wide_as_the_brush() {
        let side = 32;
        let mut canvas = vec![255u8; side * side];
        segment(&mut canvas, side, (4.0, 16.0), (28.0, 16.0), 6.0);
        let column: usize = (0..side).filter(|&y| canvas[y * side + 16] == 0).count();
        assert_eq!(column, 6);
    }

    #[test]
    fn regions_of_two_flat_colours_meet_at_one_boundary() {
        let side = 32;
        let face = RgbImage::from_fn(side as u32, side as u32, |x, _| {
            if x < 16 {
                image::Rgb([200, 40, 40])
            } else {
                image::Rgb([240, 220, 200])
            }
        });
        let mut rng = SplitMix64::new(1);
        let labels = merge_islands(&colour_regions(&face, 2, &mut rng), side);
        let edge = boundaries(&labels, side);
        let marked: Vec<usize> = (0..side * side)
            .filter(|&i| edge[i])
            .map(|i| i % side)
            .collect();
        assert_eq!(marked.len(), side);
        assert!(marked.iter().all(|&x| (14..=16).contains(&x)), "{marked:?}");
    }
}
