//! "Draw a face": the sketch pad, its controls and the face it becomes, translated as you draw,
//! in the mode the visitor picks ("follows my lines" or "anime face", kept in the URL).
//! At most one translation runs at a time; strokes made meanwhile are picked up by the next one,
//! so a fast hand never queues up work.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlCanvasElement, HtmlElement, HtmlImageElement, HtmlInputElement};

use crate::dom::{by_id, now_ms, on, paint};
use crate::route::DrawMode;
use crate::sketch_pad::{PAD_SIDE, SketchPad};
use crate::translator::Translator;

/// Brush widths offered, in pad pixels (a model pixel is four).
const DEFAULT_BRUSH: f64 = 6.0;

pub struct DrawSection {
    translator: Translator,
    pad: RefCell<Option<SketchPad>>,
    /// A translation is running.
    busy: Cell<bool>,
    /// The drawing changed since the running translation read it.
    stale: Cell<bool>,
    /// Faces drawn so far (the page's `data-faces`, which the browser test waits on).
    faces: Cell<u64>,
    mode: Cell<DrawMode>,
    /// Writes a newly chosen mode into the URL.
    remember: Box<dyn Fn(DrawMode)>,
}

impl DrawSection {
    /// Starts the section in `mode` (the URL's; by default "anime face" when the encoder
    /// loaded, since it is what crude drawings need).
    pub fn start(
        translator: Translator,
        mode: Option<DrawMode>,
        remember: impl Fn(DrawMode) + 'static,
    ) -> Rc<Self> {
        let available = translator.anime_unavailable().is_none();
        let anime: HtmlInputElement = by_id("mode-anime");
        if let Some(reason) = translator.anime_unavailable() {
            anime.set_disabled(true);
            let _ = anime.set_attribute("title", reason);
            web_sys::console::warn_1(&reason.into());
        }
        let mode = match mode {
            Some(DrawMode::Anime) | None if available => DrawMode::Anime,
            _ => DrawMode::Lines,
        };
        let section = Rc::new(Self {
            translator,
            pad: RefCell::new(None),
            busy: Cell::new(false),
            stale: Cell::new(false),
            faces: Cell::new(0),
            mode: Cell::new(mode),
            remember: Box::new(remember),
        });
        section.show_mode();
        let weak = Rc::downgrade(&section);
        let pad = SketchPad::new(by_id("sketch-pad"), DEFAULT_BRUSH, move || {
            if let Some(section) = weak.upgrade() {
                section.request();
            }
        });
        *section.pad.borrow_mut() = Some(pad);
        section.install_controls();
        by_id::<HtmlElement>("draw-area").set_hidden(false);
        set_draw_state("ready");
        section.request();
        section
    }

    fn pad(&self) -> SketchPad {
        self.pad
            .borrow()
            .clone()
            .expect("the pad exists once started")
    }

    fn seed(&self) -> u64 {
        by_id::<HtmlInputElement>("colour-seed")
            .value()
            .parse()
            .unwrap_or(0)
    }

    /// Asks for a translation of the current drawing.
    fn request(self: &Rc<Self>) {
        if self.busy.get() {
            self.stale.set(true);
            return;
        }
        self.busy.set(true);
        self.stale.set(false);
        set_draw_state("busy");
        let section = self.clone();
        spawn_local(async move {
            loop {
                let rgba = section.pad().rgba();
                let started = now_ms();
                let result = section
                    .translator
                    .face(&rgba, PAD_SIDE as usize, section.seed(), section.mode.get())
                    .await;
                match result {
                    Ok(face) => {
                        let canvas: HtmlCanvasElement = by_id("drawn-face");
                        let size = section.translator.size;
                        paint(&canvas, &face, size, 0);
                        section.faces.set(section.faces.get() + 1);
                        let _ = by_id::<HtmlElement>("draw")
                            .set_attribute("data-faces", &section.faces.get().to_string());
                        by_id::<HtmlElement>("draw-timing").set_text_content(Some(&format!(
                            "{} strokes, {}, colouring {}: {:.0} ms on {}",
                            section.pad().stroke_count(),
                            mode_label(section.mode.get()),
                            section.seed(),
                            now_ms() - started,
                            section.translator.backend.kind.label()
                        )));
                    }
                    Err(message) => {
                        by_id::<HtmlElement>("draw-timing").set_text_content(Some(&message));
                        web_sys::console::error_1(&message.into());
                    }
                }
                if !section.stale.replace(false) {
                    break;
                }
            }
            section.busy.set(false);
            set_draw_state("ready");
        });
    }

    /// Checks the mode's radio button and names the mode on the section.
    fn show_mode(&self) {
        let mode = self.mode.get();
        by_id::<HtmlInputElement>("mode-lines").set_checked(mode == DrawMode::Lines);
        by_id::<HtmlInputElement>("mode-anime").set_checked(mode == DrawMode::Anime);
        let _ = by_id::<HtmlElement>("draw").set_attribute("data-mode", mode.id());
    }

    fn install_controls(self: &Rc<Self>) {
        let section = self.clone();
        on(&by_id::<Element>("draw-mode"), "change", move |_| {
            let mode = if by_id::<HtmlInputElement>("mode-anime").checked() {
                DrawMode::Anime
            } else {
                DrawMode::Lines
            };
            if mode != section.mode.replace(mode) {
                section.show_mode();
                (section.remember)(mode);
                section.request();
            }
        });
        let section = self.clone();
        on(&by_id::<Element>("undo"), "click", move |_| {
            section.pad().undo()
        });
        let section = self.clone();
        on(&by_id::<Element>("clear"), "click", move |_| {
            section.pad().clear()
        });
        let section = self.clone();
        on(&by_id::<Element>("brush"), "input", move |_| {
            let width: f64 = by_id::<HtmlInputElement>("brush")
                .value()
                .parse()
                .unwrap_or(DEFAULT_BRUSH);
            section.pad().set_brush(width);
        });
        let section = self.clone();
        on(&by_id::<Element>("colour-seed"), "input", move |_| {
            section.request()
        });
        let section = self.clone();
        on(&by_id::<Element>("another-colouring"), "click", move |_| {
            let input: HtmlInputElement = by_id("colour-seed");
            input.set_value(&(section.seed() + 1).to_string());
            section.request();
        });
        let section = self.clone();
        on(&by_id::<Element>("examples"), "click", move |event| {
            let image = event
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|t| t.closest("[data-example]").ok().flatten())
                .and_then(|holder| holder.query_selector("img").ok().flatten())
                .and_then(|img| img.dyn_into::<HtmlImageElement>().ok());
            if let Some(image) = image {
                section.pad().start_from(image);
            }
        });
    }
}

fn mode_label(mode: DrawMode) -> &'static str {
    match mode {
        DrawMode::Lines => "follows my lines",
        DrawMode::Anime => "anime face",
    }
}

/// The section's `data-state` (idle, loading, busy, ready, error), which the browser test reads.
pub fn set_draw_state(state: &str) {
    let _ = by_id::<HtmlElement>("draw").set_attribute("data-state", state);
}
