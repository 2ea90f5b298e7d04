use rayon::prelude::*;

use super::{Cascade, Feature, GrayImage, equalize_histogram, group_rectangles};

/// A detection in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
}

impl Rect {
    pub fn area(&self) -> i64 {
        i64::from(self.width) * i64::from(self.height)
    }

    /// Intersection over union.
    pub fn iou(&self, other: &Rect) -> f64 {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = (self.x + self.width).min(other.x + other.width);
        let y1 = (self.y + self.height).min(other.y + other.height);
        let inter = i64::from((x1 - x0).max(0)) * i64::from((y1 - y0).max(0));
        inter as f64 / (self.area() + other.area() - inter) as f64
    }
}

/// `detectMultiScale`'s parameters, with its defaults for anime faces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectOptions {
    /// Each pyramid level shrinks the image by this factor (> 1).
    pub scale_factor: f64,
    /// A face needs more than this many overlapping raw detections.
    pub min_neighbors: usize,
    /// Smallest face side in pixels.
    pub min_size: usize,
    /// Largest face side in pixels (0: the whole image).
    pub max_size: usize,
    /// Equalise the histogram first, as lbpcascade_animeface's example does.
    pub equalize: bool,
}

impl Default for DetectOptions {
    fn default() -> Self {
        Self {
            scale_factor: 1.1,
            min_neighbors: 5,
            min_size: 24,
            max_size: 0,
            equalize: true,
        }
    }
}

/// Faces in `image`, grouped as OpenCV groups them.
pub fn detect(cascade: &Cascade, image: &GrayImage, options: &DetectOptions) -> Vec<Rect> {
    let raw = detect_raw(cascade, image, options);
    group_rectangles(&raw, options.min_neighbors, 0.2)
}

/// Every window the cascade accepts, over all pyramid levels, before grouping.
pub fn detect_raw(cascade: &Cascade, image: &GrayImage, options: &DetectOptions) -> Vec<Rect> {
    assert!(options.scale_factor > 1.0, "scale factor must exceed 1");
    let image = if options.equalize {
        equalize_histogram(image)
    } else {
        image.clone()
    };
    let (window_w, window_h) = (cascade.window_width, cascade.window_height);
    let max_size = if options.max_size == 0 {
        image.width.max(image.height)
    } else {
        options.max_size
    };
    // The pyramid levels OpenCV would visit, then all of them in parallel (order kept).
    let mut levels = Vec::new();
    let mut factor = 1.0f64;
    loop {
        let window = (
            (window_w as f64 * factor).round() as usize,
            (window_h as f64 * factor).round() as usize,
        );
        let scaled = (
            (image.width as f64 / factor).round() as usize,
            (image.height as f64 / factor).round() as usize,
        );
        if scaled.0 < window_w || scaled.1 < window_h || window.0 > max_size || window.1 > max_size
        {
            break;
        }
        if window.0 >= options.min_size && window.1 >= options.min_size {
            levels.push((factor, window, scaled));
        }
        factor *= options.scale_factor;
    }
    levels
        .par_iter()
        .flat_map_iter(|&(factor, window, scaled)| {
            let level = if factor == 1.0 {
                image.clone()
            } else {
                image.resize(scaled.0, scaled.1)
            };
            let integral = Integral::new(&level);
            // OpenCV steps 2 pixels on fine levels and 1 once the image is halved.
            let step = if factor >= 2.0 { 1 } else { 2 };
            let mut found = Vec::new();
            for y in (0..=scaled.1 - window_h).step_by(step) {
                for x in (0..=scaled.0 - window_w).step_by(step) {
                    if accepts(cascade, &integral, x, y) {
                        found.push(Rect {
                            x: (x as f64 * factor).round() as i32,
                            y: (y as f64 * factor).round() as i32,
                            width: window.0 as i32,
                            height: window.1 as i32,
                        });
                    }
                }
            }
            found
        })
        .collect()
}

/// Summed-area table with a zero first row and column.
struct Integral {
    stride: usize,
    sums: Vec<i32>,
}

impl Integral {
    fn new(image: &GrayImage) -> Self {
        let stride = image.width + 1;
        let mut sums = vec![0i32; stride * (image.height + 1)];
        for y in 0..image.height {
            let mut row = 0i32;
            for x in 0..image.width {
                row += i32::from(image.pixels[y * image.width + x]);
                sums[(y + 1) * stride + x + 1] = sums[y * stride + x + 1] + row;
            }
        }
        Self { stride, sums }
    }

    /// Sum of the `w` x `h` block at (`x`, `y`).
    #[cfg(test)]
    fn block(&self, x: usize, y: usize, w: usize, h: usize) -> i32 {
        let at = |xx: usize, yy: usize| self.sums[yy * self.stride + xx];
        at(x + w, y + h) - at(x, y + h) - at(x + w, y) + at(x, y)
    }
}

/// The 8-bit LBP code of a feature at window origin (`x`, `y`): each of the 8 outer blocks of
/// the 3x3 grid sets its bit when its sum is at least the centre block's, clockwise from the
/// top-left block (bit 7) to the middle-left one (bit 0), as OpenCV's LBP evaluator does.
fn lbp_code(integral: &Integral, feature: &Feature, x: usize, y: usize) -> u8 {
    let (w, h) = (feature.width, feature.height);
    let (left, top) = (x + feature.x, y + feature.y);
    // The 16 grid corners are shared by the 9 blocks: read each once.
    let mut corner = [[0i32; 4]; 4];
    for (row, corners) in corner.iter_mut().enumerate() {
        let base = (top + row * h) * integral.stride + left;
        for (col, value) in corners.iter_mut().enumerate() {
            *value = integral.sums[base + col * w];
        }
    }
    let block = |col: usize, row: usize| {
        corner[row + 1][col + 1] - corner[row + 1][col] - corner[row][col + 1] + corner[row][col]
    };
    let centre = block(1, 1);
    const ORDER: [(usize, usize); 8] = [
        (0, 0),
        (1, 0),
        (2, 0),
        (2, 1),
        (2, 2),
        (1, 2),
        (0, 2),
        (0, 1),
    ];
    ORDER
        .iter()
        .enumerate()
        .fold(0u8, |code, (i, &(col, row))| {
            code | (u8::from(block(col, row) >= centre) << (7 - i))
        })
}

fn accepts(cascade: &Cascade, integral: &Integral, x: usize, y: usize) -> bool {
    cascade.stages.iter().all(|stage| {
        let sum: f32 = stage
            .classifiers
            .iter()
            .map(|weak| {
                let code = usize::from(lbp_code(integral, &cascade.features[weak.feature], x, y));
                if weak.subset[code >> 5] & (1 << (code & 31)) != 0 {
                    weak.left
                } else {
                    weak.right
                }
            })
            .sum();
        sum >= stage.threshold
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prepare::cascade::{Stage, WeakClassifier};

    fn gray(width: usize, height: usize, f: impl Fn(usize, usize) -> u8) -> GrayImage {
        let pixels = (0..height)
            .flat_map(|y| (0..width).map(move |x| (x, y)))
            .map(|(x, y)| f(x, y))
            .collect();
        GrayImage {
            width,
            height,
            pixels,
        }
    }

    #[test]
    fn integral_blocks_are_sums() {
        let image = gray(5, 4, |x, y| (x + 10 * y) as u8);
        let integral = Integral::new(&image);
        // Block at (1, 1), 3 wide, 2 high: rows 1-2, columns 1-3.
        let expected: i32 = [1, 2, 3].iter().map(|x| 2 * x + 10 + 20).sum();
        assert_eq!(integral.block(1, 1, 3, 2), expected);
    }

    #[test]
    fn lbp_code_by_hand() {
        // 3x3 blocks of 1x1 pixels; centre 50. Brighter-or-equal neighbours: top-left (bit 7),
        // right (bit 4) and bottom-left (bit 1): code 0b1001_0010.
        let values = [[60, 10, 10], [10, 50, 50], [90, 0, 49]];
        let image = gray(3, 3, |x, y| values[y][x]);
        let feature = Feature {
            x: 0,
            y: 0,
            width: 1,
            height: 1,
        };
        assert_eq!(
            lbp_code(&Integral::new(&image), &feature, 0, 0),
            0b1001_0010
        );
    }

    #[test]
    fn a_one_stump_cascade_fires_exactly_where_computed_by_hand() {
        // One stage, one stump on a 3x3 window: "left" (score 1) only for code 0b1001_0010.
        let code = 0b1001_0010usize;
        let mut subset = [0u32; 8];
        subset[code >> 5] |= 1 << (code & 31);
        let cascade = Cascade {
            window_width: 3,
            window_height: 3,
            stages: vec![Stage {
                threshold: 0.5,
                classifiers: vec![WeakClassifier {
                    feature: 0,
                    subset,
                    left: 1.0,
                    right: -1.0,
                }],
            }],
            features: vec![Feature {
                x: 0,
                y: 0,
                width: 1,
                height: 1,
            }],
        };
        let pattern = [[60u8, 10, 10], [10, 50, 50], [90, 0, 49]];
        // A 9x9 image of flat 20 with the pattern pasted at (4, 2).
        let image = gray(9, 9, |x, y| {
            if (4..7).contains(&x) && (2..5).contains(&y) {
                pattern[y - 2][x - 4]
            } else {
                20
            }
        });
        let options = DetectOptions {
            scale_factor: 100.0, // one level only
            min_neighbors: 0,
            min_size: 0,
            max_size: 0,
            equalize: false,
        };
        let raw = detect_raw(&cascade, &image, &options);
        // Step 2 visits even x and y; the pattern sits at (4, 2): exactly one window accepts.
        assert_eq!(
            raw,
            vec![Rect {
                x: 4,
                y: 2,
                width: 3,
                height: 3
            }]
        );
    }
}
