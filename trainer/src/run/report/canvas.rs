//! The bitmap the plots are drawn on: plotters' `BitMapBackend` with text set by ab_glyph
//! here. plotters 0.3.7 draws each ab_glyph glyph at the pen position without its side
//! bearing, so labels came out unevenly spaced ("ep och"); this places glyphs where the font
//! says, with kerning, and takes the font from the binary (DejaVu Sans) so that plots look the
//! same on machines without fonts.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters::backend::BitMapBackend;
use plotters::prelude::DrawingBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

/// The family name plots ask for; plotters measures text with the same font (registered in
/// [`register_font`]), so its layout and this drawing agree.
pub const FONT: &str = "sans-serif";

fn font_bytes() -> &'static [u8] {
    dejavu::sans::regular()
}

/// Registers the embedded font with plotters (which measures text for its layout), once.
pub fn register_font() {
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| {
        plotters::style::register_font(FONT, plotters::style::FontStyle::Normal, font_bytes())
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans is a valid font"));
    });
}

type Error<'a> = DrawingErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>;

/// An RGB8 buffer to draw on.
pub struct Canvas<'a> {
    inner: BitMapBackend<'a>,
    font: FontRef<'static>,
}

impl<'a> Canvas<'a> {
    /// `pixels` is RGB8, `size.0 * size.1 * 3` bytes.
    pub fn new(pixels: &'a mut [u8], size: (u32, u32)) -> Self {
        register_font();
        Self {
            inner: BitMapBackend::with_buffer(pixels, size),
            font: FontRef::try_from_slice(font_bytes()).expect("a valid embedded font"),
        }
    }
}

impl<'a> DrawingBackend for Canvas<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), Error<'a>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), Error<'a>> {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), Error<'a>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vertices: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.inner.fill_polygon(vertices, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), Error<'a>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), Error<'a>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let scale = PxScale::from(style.size() as f32);
        let font = self.font.as_scaled(scale);
        // Lay the glyphs out on a baseline at the font's ascent, kerned.
        let mut caret = 0.0f32;
        let mut previous = None;
        let mut glyphs = Vec::with_capacity(text.len());
        for character in text.chars() {
            let id = font.glyph_id(character);
            if let Some(previous) = previous {
                caret += font.kern(previous, id);
            }
            glyphs.push(id.with_scale_and_position(scale, point(caret, font.ascent())));
            caret += font.h_advance(id);
            previous = Some(id);
        }
        // The box plotters laid the text out with (its ab_glyph measure: advance-wide and
        // size/1.24 high), so anchors land where the layout expects.
        let (width, height) = (caret.round() as i32, (style.size() / 1.24) as i32);
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0,
            HPos::Center => -width / 2,
            HPos::Right => -width,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let (canvas_width, canvas_height) = self.get_size();
        let mut result = Ok(());
        for glyph in glyphs {
            let Some(outline) = self.font.outline_glyph(glyph) else {
                continue; // a space
            };
            let bounds = outline.px_bounds();
            outline.draw(|x, y, coverage| {
                let (x, y) = transform.transform(
                    bounds.min.x as i32 + x as i32 + dx,
                    bounds.min.y as i32 + y as i32 + dy,
                );
                let (x, y) = (pos.0 + x, pos.1 + y);
                let inside =
                    x >= 0 && y >= 0 && x < canvas_width as i32 && y < canvas_height as i32;
                if inside && result.is_ok() {
                    let ink = BackendColor {
                        alpha: color.alpha * f64::from(coverage.min(1.0)),
                        rgb: color.rgb,
                    };
                    result = self.inner.draw_pixel((x, y), ink);
                }
            });
        }
        result
    }
}
