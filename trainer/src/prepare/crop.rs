use image::RgbImage;
use image::imageops::FilterType;

use super::cascade::Rect;

/// A square around `face` grown by `margin` (a fraction of the face's side on every side),
/// shrunk to fit and shifted inside the image. Returns (x, y, side).
pub fn square_box(face: &Rect, margin: f64, width: u32, height: u32) -> (u32, u32, u32) {
    let face_side = f64::from(face.width.max(face.height));
    let side = (face_side * (1.0 + 2.0 * margin))
        .round()
        .min(f64::from(width.min(height)))
        .max(1.0);
    let centre_x = f64::from(face.x) + f64::from(face.width) / 2.0;
    let centre_y = f64::from(face.y) + f64::from(face.height) / 2.0;
    let clamp = |centre: f64, limit: u32| {
        (centre - side / 2.0)
            .round()
            .clamp(0.0, f64::from(limit) - side) as u32
    };
    (clamp(centre_x, width), clamp(centre_y, height), side as u32)
}

/// The centred largest square, for images used whole.
pub fn centre_square(width: u32, height: u32) -> (u32, u32, u32) {
    let side = width.min(height);
    ((width - side) / 2, (height - side) / 2, side)
}

/// Cuts the square (x, y, side) and resizes it to `size` with Lanczos3.
pub fn crop_resize(image: &RgbImage, (x, y, side): (u32, u32, u32), size: u32) -> RgbImage {
    let square = image::imageops::crop_imm(image, x, y, side, side).to_image();
    if side == size {
        square
    } else {
        image::imageops::resize(&square, size, size, FilterType::Lanczos3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_grow_by_the_margin_and_stay_inside() {
        let face = Rect {
            x: 40,
            y: 40,
            width: 20,
            height: 20,
        };
        assert_eq!(square_box(&face, 0.25, 200, 200), (35, 35, 30));
        // Near the corner: shifted in, not cut.
        let corner = Rect {
            x: 0,
            y: 0,
            width: 20,
            height: 20,
        };
        assert_eq!(square_box(&corner, 0.5, 100, 80), (0, 0, 40));
        // Larger than the image: the whole short side.
        assert_eq!(square_box(&face, 5.0, 100, 80), (10, 0, 80));
    }
}
