//! The drawing surface: pointer events (mouse, touch and pen alike), strokes kept as point lists
//! so undo can redraw without them, an optional example sketch underneath.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlImageElement, PointerEvent};

/// Side of the pad's pixel buffer: four times the model's 64, so strokes are smooth before the
/// block average brings them down (see `facegan_model::translate::sketch_input`).
pub const PAD_SIDE: u32 = 256;

struct Stroke {
    width: f64,
    points: Vec<(f64, f64)>,
}

struct PadState {
    strokes: Vec<Stroke>,
    /// The stroke being drawn, by pointer id (one pen or finger at a time).
    active: Option<i32>,
    background: Option<HtmlImageElement>,
    brush: f64,
}

/// A sketch pad on a canvas; `on_change` runs after every change (while drawing too).
#[derive(Clone)]
pub struct SketchPad {
    canvas: HtmlCanvasElement,
    context: CanvasRenderingContext2d,
    state: Rc<RefCell<PadState>>,
    on_change: Rc<dyn Fn()>,
}

impl SketchPad {
    pub fn new(canvas: HtmlCanvasElement, brush: f64, on_change: impl Fn() + 'static) -> Self {
        canvas.set_width(PAD_SIDE);
        canvas.set_height(PAD_SIDE);
        // Read back after every stroke: tell the browser to keep the pixels on the CPU side.
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"willReadFrequently".into(), &true.into());
        let context: CanvasRenderingContext2d = canvas
            .get_context_with_context_options("2d", &options)
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into().ok())
            .expect("a 2d canvas");
        let pad = Self {
            canvas,
            context,
            state: Rc::new(RefCell::new(PadState {
                strokes: Vec::new(),
                active: None,
                background: None,
                brush,
            })),
            on_change: Rc::new(on_change),
        };
        pad.redraw();
        pad.listen();
        pad
    }

    pub fn set_brush(&self, brush: f64) {
        self.state.borrow_mut().brush = brush;
    }

    pub fn undo(&self) {
        let removed = self.state.borrow_mut().strokes.pop().is_some();
        if removed {
            self.redraw();
            (self.on_change)();
        }
    }

    pub fn clear(&self) {
        {
            let mut state = self.state.borrow_mut();
            state.strokes.clear();
            state.background = None;
        }
        self.redraw();
        (self.on_change)();
    }

    /// Starts over from an example sketch (a loaded image), drawn under new strokes.
    pub fn start_from(&self, image: HtmlImageElement) {
        {
            let mut state = self.state.borrow_mut();
            state.strokes.clear();
            state.background = Some(image);
        }
        self.redraw();
        (self.on_change)();
    }

    /// Strokes drawn so far (for the page's status line and the browser test).
    pub fn stroke_count(&self) -> usize {
        self.state.borrow().strokes.len()
    }

    /// The pad's pixels as RGBA, `PAD_SIDE * PAD_SIDE * 4` bytes.
    pub fn rgba(&self) -> Vec<u8> {
        self.context
            .get_image_data(0.0, 0.0, f64::from(PAD_SIDE), f64::from(PAD_SIDE))
            .map(|data| data.data().0)
            .unwrap_or_default()
    }

    fn redraw(&self) {
        let context = &self.context;
        let side = f64::from(PAD_SIDE);
        context.set_fill_style_str("#ffffff");
        context.fill_rect(0.0, 0.0, side, side);
        let state = self.state.borrow();
        if let Some(image) = &state.background {
            let _ = context
                .draw_image_with_html_image_element_and_dw_and_dh(image, 0.0, 0.0, side, side);
        }
        for stroke in &state.strokes {
            draw_stroke(context, stroke);
        }
    }

    /// Pad coordinates of a pointer event (the canvas may be shown at any CSS size).
    fn point(&self, event: &PointerEvent) -> (f64, f64) {
        let rect = self.canvas.get_bounding_client_rect();
        let scale = f64::from(PAD_SIDE) / rect.width().max(1.0);
        (
            (f64::from(event.client_x()) - rect.left()) * scale,
            (f64::from(event.client_y()) - rect.top()) * scale,
        )
    }

    fn listen(&self) {
        let pad = self.clone();
        self.on("pointerdown", move |event| {
            event.prevent_default();
            let _ = pad.canvas.set_pointer_capture(event.pointer_id());
            let point = pad.point(&event);
            {
                let mut state = pad.state.borrow_mut();
                state.active = Some(event.pointer_id());
                let width = state.brush;
                state.strokes.push(Stroke {
                    width,
                    points: vec![point],
                });
            }
            pad.redraw();
            (pad.on_change)();
        });
        let pad = self.clone();
        self.on("pointermove", move |event| {
            let drawing = pad.state.borrow().active == Some(event.pointer_id());
            if !drawing {
                return;
            }
            event.prevent_default();
            let point = pad.point(&event);
            pad.state
                .borrow_mut()
                .strokes
                .last_mut()
                .expect("a stroke is active")
                .points
                .push(point);
            // Redrawn whole rather than segment by segment, so the pixels after an undo are
            // exactly those drawn before the undone stroke (anti-aliasing differs otherwise).
            pad.redraw();
            (pad.on_change)();
        });
        for end in ["pointerup", "pointercancel"] {
            let pad = self.clone();
            self.on(end, move |event| {
                let mut state = pad.state.borrow_mut();
                if state.active == Some(event.pointer_id()) {
                    state.active = None;
                    drop(state);
                    (pad.on_change)();
                }
            });
        }
    }

    fn on(&self, name: &str, handler: impl FnMut(PointerEvent) + 'static) {
        let closure = Closure::<dyn FnMut(PointerEvent)>::new(handler);
        self.canvas
            .add_event_listener_with_callback(name, closure.as_ref().unchecked_ref())
            .expect("listener");
        closure.forget();
    }
}

fn style(context: &CanvasRenderingContext2d, width: f64) {
    context.set_stroke_style_str("#000000");
    context.set_fill_style_str("#000000");
    context.set_line_width(width);
    context.set_line_cap("round");
    context.set_line_join("round");
}

fn draw_stroke(context: &CanvasRenderingContext2d, stroke: &Stroke) {
    style(context, stroke.width);
    let Some(&(x, y)) = stroke.points.first() else {
        return;
    };
    if stroke.points.len() == 1 {
        // A tap is a dot.
        context.begin_path();
        let _ = context.arc(x, y, stroke.width / 2.0, 0.0, std::f64::consts::TAU);
        context.fill();
        return;
    }
    context.begin_path();
    context.move_to(x, y);
    for &(x, y) in &stroke.points[1..] {
        context.line_to(x, y);
    }
    context.stroke();
}
