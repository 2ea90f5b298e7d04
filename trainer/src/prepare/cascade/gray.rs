/// An 8-bit grayscale image, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrayImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// RGB to gray with OpenCV's fixed-point BT.601 weights, so detections match OpenCV's.
pub fn to_gray(rgb: &image::RgbImage) -> GrayImage {
    let pixels = rgb
        .pixels()
        .map(|p| {
            let [r, g, b] = p.0.map(u32::from);
            ((r * 4899 + g * 9617 + b * 1868 + (1 << 13)) >> 14) as u8
        })
        .collect();
    GrayImage {
        width: rgb.width() as usize,
        height: rgb.height() as usize,
        pixels,
    }
}

/// Histogram equalisation as OpenCV's `equalizeHist` computes it (the usage lbpcascade_animeface
/// documents before detection).
pub fn equalize_histogram(image: &GrayImage) -> GrayImage {
    let mut histogram = [0usize; 256];
    for &p in &image.pixels {
        histogram[usize::from(p)] += 1;
    }
    let total = image.pixels.len();
    let Some(first) = histogram.iter().position(|&count| count > 0) else {
        return image.clone();
    };
    if histogram[first] == total {
        return GrayImage {
            pixels: vec![first as u8; total],
            ..image.clone()
        };
    }
    let scale = 255.0f32 / (total - histogram[first]) as f32;
    let mut lut = [0u8; 256];
    let mut sum = 0usize;
    for value in first + 1..256 {
        sum += histogram[value];
        lut[value] = (sum as f32 * scale).round().clamp(0.0, 255.0) as u8;
    }
    GrayImage {
        pixels: image.pixels.iter().map(|&p| lut[usize::from(p)]).collect(),
        ..image.clone()
    }
}

impl GrayImage {
    /// Bilinear resize with OpenCV's pixel-centre mapping (`INTER_LINEAR`).
    pub fn resize(&self, width: usize, height: usize) -> GrayImage {
        let scale_x = self.width as f32 / width as f32;
        let scale_y = self.height as f32 / height as f32;
        let sample = |position: f32, limit: usize| {
            let position = position.max(0.0);
            let low = (position.floor() as usize).min(limit - 1);
            let high = (low + 1).min(limit - 1);
            (low, high, position - low as f32)
        };
        let mut pixels = Vec::with_capacity(width * height);
        for y in 0..height {
            let (y0, y1, fy) = sample((y as f32 + 0.5) * scale_y - 0.5, self.height);
            for x in 0..width {
                let (x0, x1, fx) = sample((x as f32 + 0.5) * scale_x - 0.5, self.width);
                let at = |xx: usize, yy: usize| f32::from(self.pixels[yy * self.width + xx]);
                let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
                let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
                pixels.push((top * (1.0 - fy) + bottom * fy).round() as u8);
            }
        }
        GrayImage {
            width,
            height,
            pixels,
        }
    }
}
