//! The page: boots the backend and weights, then keeps the grid and the opened face in step
//! with the URL fragment (see `route.rs`). Every change goes through the URL, so the browser's
//! back button and shared links behave.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use facegan_model::directions::{ColourPart, Edit, set_amount};
use facegan_model::{latent_for_seed, variation};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, Event, HtmlCanvasElement, HtmlElement, HtmlInputElement, KeyboardEvent};

use crate::backend::{Backend, BackendKind};
use crate::dom::{
    by_id, create, download, download_bytes, face_canvas, now_ms, on, paint, png_url,
};
use crate::draw::{DrawSection, set_draw_state};
use crate::engine::Engine;
use crate::fetch::fetch_bytes;
use crate::morph::{FRAME_DELAY_CS, encode_gif, morph_between_seeds, ping_pong};
use crate::route::{Asked, Route};
use crate::steer::{Steering, slider_part};
use crate::translator::Translator;

/// Variations shown under an opened face.
const VARIATIONS: u64 = 8;
/// How far a variation's latent moves (see `facegan_model::variation`): enough to change
/// expression and colours a little, not enough to become another character.
const VARIATION_STRENGTH: f32 = 0.35;

pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let message = format!("facegan stopped: {info}");
        web_sys::console::error_1(&message.clone().into());
        show_error(&message);
        set_state("error");
    }));
    spawn_local(async {
        if let Err(message) = boot().await {
            web_sys::console::error_1(&message.clone().into());
            show_error(&message);
            set_state("error");
        }
    });
}

struct App {
    engine: RefCell<Rc<Engine>>,
    /// The downloaded weights, kept to rebuild the generator on the CPU if WebGPU fails later.
    weights: Vec<u8>,
    weights_url: String,
    route: RefCell<Route>,
    /// The grid on screen: seed, count and what every face was asked for.
    shown_grid: RefCell<Option<(u64, usize, Option<Asked>)>>,
    /// The edit each grid face was drawn with (empty unless the grid is edited), by seed.
    grid_edits: RefCell<Vec<(u64, Edit)>>,
    /// The generator's directions, or why the face controls are unavailable.
    steering: Result<Rc<Steering>, String>,
    /// Bumped by every route change; work started for an older route stops early.
    generation: Cell<u64>,
    morph: RefCell<Option<Morph>>,
}

/// A rendered morph, playing in the large canvas.
struct Morph {
    from: u64,
    to: u64,
    frames: Rc<Vec<Vec<u8>>>,
    timer: i32,
}

async fn boot() -> Result<(), String> {
    let root: HtmlElement = by_id("app");
    let weights_url = root
        .get_attribute("data-weights")
        .ok_or("index.html: #app has no data-weights")?;
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let force_cpu = search.contains("backend=cpu");

    set_status("Looking for WebGPU…");
    let backend = Backend::choose(force_cpu).await;
    show_backend(&backend);

    set_status(&format!("Downloading {weights_url}…"));
    let progress: web_sys::HtmlProgressElement = by_id("progress");
    let weights = fetch_bytes(&weights_url, |loaded, total| {
        let text = match total {
            Some(total) => {
                progress.set_max(total as f64);
                progress.set_value(loaded as f64);
                format!(
                    "Downloading weights: {} of {} kB",
                    loaded / 1000,
                    total / 1000
                )
            }
            None => format!("Downloading weights: {} kB", loaded / 1000),
        };
        set_status(&text);
    })
    .await?;
    by_id::<HtmlElement>("loading").set_hidden(true);

    let engine = Engine::load(&weights, backend, &weights_url)?;
    show_model(&engine, weights.len());
    let steering = load_steering(&root, &weights).await;
    let app = Rc::new(App {
        engine: RefCell::new(Rc::new(engine)),
        weights,
        weights_url,
        route: RefCell::new(Route::grid(0)),
        shown_grid: RefCell::new(None),
        grid_edits: RefCell::new(Vec::new()),
        steering,
        generation: Cell::new(0),
        morph: RefCell::new(None),
    });
    app.install_handlers();

    let route = match Route::parse(&current_fragment()) {
        Ok(Some(route)) => route,
        Ok(None) => {
            let route = Route::grid(random_seed());
            replace_fragment(&route);
            route
        }
        Err(error) => {
            show_error(&format!("{error}; showing new faces instead"));
            let route = Route::grid(random_seed());
            replace_fragment(&route);
            route
        }
    };
    app.clone().show(route).await;
    offer_drawing(&root, &app);
    Ok(())
}

/// Fetches the generator's directions (a few kB) for the face controls; without them the page
/// works and the controls say why they are missing.
async fn load_steering(root: &HtmlElement, weights: &[u8]) -> Result<Rc<Steering>, String> {
    let result: Result<Rc<Steering>, String> = async {
        let url = root
            .get_attribute("data-directions")
            .ok_or("this page has no face controls (no data-directions)")?;
        let json = fetch_bytes(&url, |_, _| {}).await?;
        let steering = Steering::load(&json, weights, &url)?;
        steering.build();
        Ok(Rc::new(steering))
    }
    .await;
    let note: HtmlElement = by_id("steer-note");
    match &result {
        Ok(_) => by_id::<HtmlElement>("steer-controls").set_hidden(false),
        Err(message) => {
            web_sys::console::warn_1(&message.clone().into());
            note.set_text_content(Some(&format!("Face controls unavailable: {message}")));
            note.set_hidden(false);
        }
    }
    result
}

/// Shows the drawing section's start button; the drawing models (sketch-to-face U-Net and
/// sketch encoder, ~2 MB) are fetched only when a visitor asks for them, so looking at faces
/// costs neither their download nor their set-up.
fn offer_drawing(root: &HtmlElement, app: &Rc<App>) {
    if root.get_attribute("data-sketch-weights").is_none() {
        return;
    }
    by_id::<HtmlElement>("draw").set_hidden(false);
    let root = root.clone();
    let app = RefCell::new(Some(app.clone()));
    on(&by_id::<Element>("start-drawing"), "click", move |_| {
        if let Some(app) = app.borrow_mut().take() {
            by_id::<HtmlElement>("start-drawing").set_hidden(true);
            let root = root.clone();
            spawn_local(async move { start_drawing(&root, app).await });
        }
    });
}

/// Fetches a drawing model's file, showing its progress under the pad.
async fn fetch_drawing_file(url: &str, what: &str) -> Result<Vec<u8>, String> {
    let status: HtmlElement = by_id("draw-timing");
    fetch_bytes(url, |loaded, total| {
        let text = match total {
            Some(total) => format!(
                "Downloading the {what}: {} of {} kB",
                loaded / 1000,
                total / 1000
            ),
            None => format!("Downloading the {what}: {} kB", loaded / 1000),
        };
        status.set_text_content(Some(&text));
    })
    .await
}

/// Loads the drawing models after the faces are on screen; without the U-Net the page still
/// works and the drawing section says why it is missing; without the encoder only its mode is
/// missing.
async fn start_drawing(root: &HtmlElement, app: Rc<App>) {
    let Some(url) = root.get_attribute("data-sketch-weights") else {
        return;
    };
    set_draw_state("loading");
    let encoder_url = root.get_attribute("data-encoder-weights");
    let loaded = async {
        let unet = fetch_drawing_file(&url, "sketch model").await?;
        let encoder = match &encoder_url {
            Some(encoder_url) => Some((
                fetch_drawing_file(encoder_url, "sketch encoder").await,
                encoder_url.as_str(),
            )),
            None => None,
        };
        let engine = app.engine.borrow().clone();
        Translator::load(
            engine.backend.clone(),
            (&unet, &url),
            encoder,
            (&app.weights, engine.generator()),
        )
    }
    .await;
    match loaded {
        Ok(translator) => {
            let mode = app.route.borrow().draw;
            let remember = {
                let app = app.clone();
                move |mode| {
                    let route = Route {
                        draw: Some(mode),
                        ..app.route.borrow().clone()
                    };
                    replace_fragment(&route);
                    // The page still shows the same link, with the new mode in it.
                    if let Some(body) = crate::dom::document().body() {
                        body.set_attribute("data-route", &route.to_string()).ok();
                    }
                    *app.route.borrow_mut() = route;
                }
            };
            DRAWING.with(|slot| {
                *slot.borrow_mut() = Some(DrawSection::start(translator, mode, remember))
            });
        }
        Err(message) => {
            web_sys::console::error_1(&message.clone().into());
            by_id::<HtmlElement>("draw").set_hidden(false);
            set_draw_state("error");
            by_id::<HtmlElement>("draw-timing").set_text_content(Some(&message));
        }
    }
}

thread_local! {
    /// The drawing section lives as long as the page.
    static DRAWING: RefCell<Option<Rc<DrawSection>>> = const { RefCell::new(None) };
}

impl App {
    fn install_handlers(self: &Rc<Self>) {
        let window = web_sys::window().expect("window");

        let app = self.clone();
        on(&window, "hashchange", move |_| {
            match Route::parse(&current_fragment()) {
                Ok(Some(route)) => spawn_local(app.clone().show(route)),
                Ok(None) => navigate(&Route::grid(random_seed())),
                Err(error) => show_error(&error.to_string()),
            };
        });

        let app = self.clone();
        on(&by_id::<Element>("new-faces"), "click", move |_| {
            let route = app.route.borrow().clone();
            navigate(&Route {
                seed: random_seed(),
                ..route.close()
            });
        });

        let app = self.clone();
        on(&by_id::<Element>("grid"), "click", move |event| {
            if let Some(seed) = data_of(&event, "data-seed") {
                let edit = app
                    .grid_edits
                    .borrow()
                    .iter()
                    .find(|(s, _)| *s == seed)
                    .map(|(_, edit)| edit.clone())
                    .unwrap_or_default();
                navigate(&app.route.borrow().open(seed, edit));
            }
        });

        let app = self.clone();
        on(&by_id::<Element>("variations"), "click", move |event| {
            if let Some(index) = data_of(&event, "data-variation") {
                let route = app.route.borrow().clone();
                navigate(&Route {
                    variation: (index > 0).then_some(index),
                    ..route
                });
            }
        });

        let app = self.clone();
        let close = move || navigate(&app.route.borrow().close());
        let close_button = close.clone();
        on(&by_id::<Element>("close"), "click", move |_| close_button());
        let close_backdrop = close.clone();
        on(&by_id::<Element>("detail"), "click", move |event| {
            // Only a click on the backdrop itself, not on the card.
            let target = event.target().and_then(|t| t.dyn_into::<Element>().ok());
            if target.is_some_and(|t| t.id() == "detail") {
                close_backdrop();
            }
        });
        on(&window, "keydown", move |event| {
            let key = event.dyn_ref::<KeyboardEvent>().map(|k| k.key());
            if key.as_deref() == Some("Escape") {
                close();
            }
        });

        let app = self.clone();
        on(&by_id::<Element>("steer-colours"), "click", move |event| {
            let target: Option<Element> = event.target().and_then(|t| t.dyn_into().ok());
            let Some(button) = target.and_then(|t| t.closest("[data-colour]").ok().flatten())
            else {
                return;
            };
            let part = button.get_attribute("data-part");
            if let (Some(part), Some(name)) = (
                part.as_deref().and_then(ColourPart::from_id),
                button.get_attribute("data-colour"),
            ) {
                spawn_local(app.clone().ask_colour(part, name));
            }
        });

        let app = self.clone();
        on(&by_id::<Element>("steer-sliders"), "input", move |event| {
            let Some(input) = event
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            else {
                return;
            };
            let (Some(name), Ok(amount)) = (
                input.get_attribute("data-direction"),
                input.value().parse::<f32>(),
            ) else {
                return;
            };
            let mut route = app.route.borrow().clone();
            set_amount(&mut route.edit, &name, amount);
            // A slider on a named colour's own direction means the name may no longer hold.
            if let Some(part) = ColourPart::of_direction(&name) {
                *route.asked.colour_mut(part) = None;
            }
            // Live: no history entry per slider step, and no hashchange round trip.
            replace_fragment(&route);
            spawn_local(app.clone().show(route));
        });

        let app = self.clone();
        on(&by_id::<Element>("steer-reset"), "click", move |_| {
            navigate(&Route {
                edit: Edit::new(),
                asked: Asked::default(),
                ..app.route.borrow().clone()
            });
        });

        let app = self.clone();
        on(&by_id::<Element>("steer-all"), "click", move |_| {
            let route = app.route.borrow().clone();
            let asked = Asked {
                sliders: slider_part(&route.edit, &route.asked),
                ..route.asked.clone()
            };
            navigate(&Route {
                all: (!asked.is_empty()).then_some(asked),
                ..route
            });
        });

        let app = self.clone();
        on(&by_id::<Element>("clear-all"), "click", move |_| {
            navigate(&Route {
                all: None,
                ..app.route.borrow().clone()
            });
        });

        let app = self.clone();
        on(&by_id::<Element>("download"), "click", move |_| {
            let route = app.route.borrow().clone();
            if let Some(seed) = route.face {
                let name = match route.variation {
                    Some(v) => format!("facegan-seed-{seed}-variation-{v}.png"),
                    None => format!("facegan-seed-{seed}.png"),
                };
                let canvas: HtmlCanvasElement = by_id("face-still");
                download(&png_url(&canvas), &name);
            }
        });

        let app = self.clone();
        on(&by_id::<Element>("morph-form"), "submit", move |event| {
            event.prevent_default();
            let input: HtmlInputElement = by_id("morph-to");
            match input.value().trim().parse::<u64>() {
                Ok(to) => {
                    let route = app.route.borrow().clone();
                    navigate(&Route {
                        morph_to: Some(to),
                        ..route
                    });
                }
                Err(_) => show_error(&format!(
                    "morph target must be a seed (a whole number), found {:?}",
                    input.value()
                )),
            }
        });

        let app = self.clone();
        on(&by_id::<Element>("morph-gif"), "click", move |_| {
            if let Some(morph) = app.morph.borrow().as_ref() {
                let size = app.engine.borrow().config.image_size();
                let name = format!("facegan-morph-{}-to-{}.gif", morph.from, morph.to);
                let result = encode_gif(&morph.frames, size)
                    .map_err(|error| format!("cannot encode {name}: {error}"))
                    .and_then(|bytes| download_bytes(&bytes, "image/gif", &name));
                if let Err(message) = result {
                    show_error(&message);
                }
            }
        });

        let app = self.clone();
        on(&by_id::<Element>("morph-strip"), "click", move |_| {
            if let Some(morph) = app.morph.borrow().as_ref() {
                let size = app.engine.borrow().config.image_size();
                let strip = face_canvas(size);
                strip.set_width((size * morph.frames.len()) as u32);
                for (index, frame) in morph.frames.iter().enumerate() {
                    paint(&strip, frame, size, index * size);
                }
                let name = format!("facegan-morph-{}-to-{}.png", morph.from, morph.to);
                download(&png_url(&strip), &name);
            }
        });
    }

    /// Brings the page in line with `route`.
    async fn show(self: Rc<Self>, route: Route) {
        let token = self.generation.get() + 1;
        self.generation.set(token);
        *self.route.borrow_mut() = route.clone();
        clear_error();
        set_state("busy");

        let wanted = morph_of(&route);
        let current = self.morph.borrow().as_ref().map(|m| (m.from, m.to));
        if current != wanted {
            self.stop_morph();
        }

        by_id::<HtmlElement>("grid-edited").set_hidden(route.all.is_none());
        let result = async {
            let grid = Some((route.seed, route.count, route.all.clone()));
            if *self.shown_grid.borrow() != grid {
                self.render_grid(&route, token).await?;
            }
            match route.face {
                Some(seed) => self.render_face(&route, seed, token).await,
                None => {
                    by_id::<HtmlElement>("detail").set_hidden(true);
                    Ok(())
                }
            }
        }
        .await;
        if self.generation.get() != token {
            return; // a newer route took over
        }
        match result {
            Ok(()) => {
                // Tells a watcher (the browser test) which link the finished page shows.
                if let Some(body) = crate::dom::document().body() {
                    body.set_attribute("data-route", &route.to_string()).ok();
                }
                set_state("ready");
            }
            Err(message) => {
                show_error(&message);
                set_state("error");
            }
        }
    }

    async fn render_grid(&self, route: &Route, token: u64) -> Result<(), String> {
        let grid: HtmlElement = by_id("grid");
        grid.set_inner_html("");
        let size = self.engine.borrow().config.image_size();
        let seeds = route.seeds();
        let canvases: Vec<HtmlCanvasElement> = seeds
            .iter()
            .map(|&seed| {
                let figure: HtmlElement = create("figure");
                figure.set_attribute("data-seed", &seed.to_string()).ok();
                figure.set_attribute("tabindex", "0").ok();
                figure
                    .set_attribute("title", &format!("Open face {seed}"))
                    .ok();
                let canvas = face_canvas(size);
                canvas.set_class_name("pending");
                let caption: HtmlElement = create("figcaption");
                caption.set_text_content(Some(&format!("#{seed}")));
                figure.append_child(&canvas).ok();
                figure.append_child(&caption).ok();
                grid.append_child(&figure).ok();
                canvas
            })
            .collect();
        let latent_size = self.engine.borrow().config.latent_size();
        let latents: Vec<Vec<f32>> = seeds
            .iter()
            .map(|&s| latent_for_seed(s, latent_size))
            .collect();
        self.grid_edits.borrow_mut().clear();
        match &route.all {
            None => {
                self.generate(&latents, token, "faces", |index, rgb| {
                    canvases[index].set_class_name("");
                    paint(&canvases[index], rgb, size, 0);
                })
                .await?;
            }
            // Every face finds its own way to the asked colours; painted when all have.
            Some(asked) => {
                let steering = self.steering()?;
                let found = steering
                    .reach(
                        latents,
                        vec![asked.sliders.clone(); seeds.len()],
                        steering.targets(asked)?,
                        size,
                        async |moved: &[Vec<f32>]| {
                            self.generate(moved, token, "edited faces", |_, _| {}).await
                        },
                    )
                    .await?;
                for (index, face) in found.iter().enumerate() {
                    canvases[index].set_class_name("");
                    paint(&canvases[index], &face.face, size, 0);
                    // What each face measures as, for a watcher (the browser test).
                    if let Some(figure) = canvases[index].parent_element() {
                        figure
                            .set_attribute("data-hair", face.attributes.hair_colour())
                            .ok();
                        figure
                            .set_attribute("data-eyes", face.attributes.eye_colour())
                            .ok();
                    }
                }
                *self.grid_edits.borrow_mut() = seeds
                    .iter()
                    .zip(found)
                    .map(|(&seed, face)| (seed, face.edit))
                    .collect();
            }
        }
        if self.generation.get() == token {
            *self.shown_grid.borrow_mut() = Some((route.seed, route.count, route.all.clone()));
        }
        Ok(())
    }

    fn steering(&self) -> Result<Rc<Steering>, String> {
        self.steering
            .clone()
            .map_err(|message| format!("this link edits faces, but {message}"))
    }

    /// Moves the opened face until its measured hair or eye colour is `name`, then goes to the
    /// link of the edited face (which holds the amounts found, so it reproduces exactly).
    async fn ask_colour(self: Rc<Self>, part: ColourPart, name: String) {
        let route = self.route.borrow().clone();
        let Some(seed) = route.face else {
            return;
        };
        let token = self.generation.get();
        let result = async {
            let steering = self.steering()?;
            let swatch = steering
                .directions
                .swatch(part, &name)
                .map_err(|e| e.to_string())?
                .clone();
            let latent_size = self.engine.borrow().config.latent_size();
            let size = self.engine.borrow().config.image_size();
            set_state("busy");
            steering
                .reach(
                    vec![face_latent(seed, route.variation, latent_size)],
                    vec![route.edit.clone()],
                    vec![(part, swatch)],
                    size,
                    async |moved: &[Vec<f32>]| {
                        self.generate(moved, token, "faces (finding the colour)", |_, _| {})
                            .await
                    },
                )
                .await
        }
        .await;
        if self.generation.get() != token {
            return; // the visitor went elsewhere meanwhile
        }
        match result.map(|mut found| found.remove(0)) {
            Ok(found) => {
                let mut asked = route.asked.clone();
                *asked.colour_mut(part) = Some(name.clone());
                let next = Route {
                    edit: found.edit,
                    asked,
                    ..route.clone()
                };
                if next == route {
                    // Already that colour, as asked: no new link, so no hashchange to finish.
                    set_state("ready");
                } else {
                    navigate(&next);
                }
                if !found.reached {
                    show_error(&format!(
                        "this face does not reach {name} {}: showing the closest found",
                        part.id()
                    ));
                }
            }
            Err(message) => {
                show_error(&message);
                set_state("error");
            }
        }
    }

    async fn render_face(&self, route: &Route, seed: u64, token: u64) -> Result<(), String> {
        by_id::<HtmlElement>("detail").set_hidden(false);
        let title = match route.variation {
            Some(v) => format!("Face #{seed}, variation {v}"),
            None => format!("Face #{seed}"),
        };
        by_id::<HtmlElement>("detail-title").set_text_content(Some(&title));
        let morph_input: HtmlInputElement = by_id("morph-to");
        morph_input.set_value(&route.morph_to.map(|to| to.to_string()).unwrap_or_default());
        let (size, latent_size) = {
            let engine = self.engine.borrow();
            (engine.config.image_size(), engine.config.latent_size())
        };

        // The face itself, then its variations (index 0 is the face itself).
        let strip: HtmlElement = by_id("variations");
        strip.set_inner_html("");
        let thumbs: Vec<HtmlCanvasElement> = (0..=VARIATIONS)
            .map(|index| {
                let button: HtmlElement = create("button");
                button
                    .set_attribute("data-variation", &index.to_string())
                    .ok();
                let label = if index == 0 {
                    "The face itself".to_string()
                } else {
                    format!("Variation {index}")
                };
                button.set_attribute("title", &label).ok();
                button.set_attribute("aria-label", &label).ok();
                if route.variation.unwrap_or(0) == index {
                    button.set_class_name("selected");
                }
                let canvas = face_canvas(size);
                button.append_child(&canvas).ok();
                strip.append_child(&button).ok();
                canvas
            })
            .collect();
        let mut latents: Vec<Vec<f32>> = (0..=VARIATIONS)
            .map(|i| face_latent(seed, Some(i), latent_size))
            .collect();
        // A link may name a variation beyond the strip: render it as one more face.
        let selected = match route.variation.unwrap_or(0) {
            index if index <= VARIATIONS => index as usize,
            index => {
                latents.push(face_latent(seed, Some(index), latent_size));
                latents.len() - 1
            }
        };
        // The edit moves the face and its variations alike.
        if !route.edit.is_empty() {
            let steering = self.steering()?;
            latents = latents
                .iter()
                .map(|z| steering.directions.apply(z, &route.edit))
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?;
        }
        let still: HtmlCanvasElement = by_id("face-still");
        let moving: HtmlCanvasElement = by_id("face-morph");
        still.set_width(size as u32);
        still.set_height(size as u32);
        let faces = self
            .generate(
                &latents,
                token,
                "faces (the opened one and its variations)",
                |index, rgb| {
                    if let Some(thumb) = thumbs.get(index) {
                        paint(thumb, rgb, size, 0);
                    }
                    if index == selected {
                        paint(&still, rgb, size, 0);
                    }
                },
            )
            .await?;
        if let (Ok(steering), Some(face)) = (&self.steering, faces.get(selected)) {
            steering.show(&route.edit, &route.asked, face, size);
        }

        // Without a morph, `show` has already stopped any previous one.
        let Some(to) = route.morph_to else {
            return Ok(());
        };
        if morph_of(route) == self.morph.borrow().as_ref().map(|m| (m.from, m.to)) {
            return Ok(()); // already playing
        }
        let latents = morph_between_seeds(seed, to, latent_size);
        let frames = self
            .generate(&latents, token, "morph frames", |_, _| {})
            .await?;
        if self.generation.get() != token {
            return Ok(());
        }
        self.play_morph(seed, to, frames, &still, &moving);
        Ok(())
    }

    /// Runs the generator for the current route; switches to the CPU once if WebGPU fails.
    async fn generate(
        &self,
        latents: &[Vec<f32>],
        token: u64,
        what: &str,
        mut on_face: impl FnMut(usize, &[u8]),
    ) -> Result<Vec<Vec<u8>>, String> {
        for attempt in 0..2 {
            let engine = self.engine.borrow().clone();
            let start = now_ms();
            let is_current = || self.generation.get() == token;
            let result = engine
                .faces(latents, is_current, |index, rgb| {
                    if is_current() {
                        on_face(index, rgb);
                    }
                })
                .await;
            match result {
                Ok(faces) => {
                    if is_current() {
                        show_timing(&engine, faces.len(), what, now_ms() - start);
                    }
                    return Ok(faces);
                }
                Err(message) if attempt == 0 && engine.backend.kind == BackendKind::WebGpu => {
                    web_sys::console::warn_1(&message.clone().into());
                    let backend =
                        Backend::cpu("WebGPU failed while generating.", Some(message.clone()));
                    let cpu = Engine::load(&self.weights, backend, &self.weights_url)?;
                    show_backend(&cpu.backend);
                    *self.engine.borrow_mut() = Rc::new(cpu);
                }
                Err(message) => return Err(message),
            }
        }
        unreachable!("the second attempt returns")
    }

    fn play_morph(
        &self,
        from: u64,
        to: u64,
        frames: Vec<Vec<u8>>,
        still: &HtmlCanvasElement,
        moving: &HtmlCanvasElement,
    ) {
        self.stop_morph();
        let size = self.engine.borrow().config.image_size();
        moving.set_width(size as u32);
        moving.set_height(size as u32);
        moving.set_hidden(false);
        still.set_hidden(true);
        set_morph_exports(true);

        let order = ping_pong(frames.len());
        let frames = Rc::new(frames);
        let step = Cell::new(0usize);
        let (canvas, played) = (moving.clone(), frames.clone());
        let tick = Closure::<dyn FnMut()>::new(move || {
            let index = order[step.get() % order.len()];
            step.set(step.get() + 1);
            paint(&canvas, &played[index], size, 0);
        });
        let timer = web_sys::window()
            .expect("window")
            .set_interval_with_callback_and_timeout_and_arguments_0(
                tick.as_ref().unchecked_ref(),
                i32::from(FRAME_DELAY_CS) * 10,
            )
            .expect("interval");
        paint(moving, &frames[0], size, 0);
        tick.forget(); // stop_morph clears the interval; the closure is a few bytes
        *self.morph.borrow_mut() = Some(Morph {
            from,
            to,
            frames,
            timer,
        });
    }

    fn stop_morph(&self) {
        if let Some(morph) = self.morph.borrow_mut().take()
            && let Some(window) = web_sys::window()
        {
            window.clear_interval_with_handle(morph.timer);
        }
        by_id::<HtmlElement>("face-morph").set_hidden(true);
        by_id::<HtmlElement>("face-still").set_hidden(false);
        set_morph_exports(false);
    }
}

/// The latent of face `seed` or of its variation (`Some(0)` and `None` are the face itself).
fn face_latent(seed: u64, variation_index: Option<u64>, latent_size: usize) -> Vec<f32> {
    match variation_index.unwrap_or(0) {
        0 => latent_for_seed(seed, latent_size),
        index => variation(seed, index, VARIATION_STRENGTH, latent_size),
    }
}

fn morph_of(route: &Route) -> Option<(u64, u64)> {
    route.face.zip(route.morph_to)
}

/// The number in attribute `name` of the clicked element or its nearest ancestor having it.
fn data_of(event: &Event, name: &str) -> Option<u64> {
    let target: Element = event.target()?.dyn_into().ok()?;
    let holder = target.closest(&format!("[{name}]")).ok()??;
    holder.get_attribute(name)?.parse().ok()
}

fn current_fragment() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// Goes to `route` through the URL (adding a history entry); `hashchange` renders it.
fn navigate(route: &Route) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_hash(&route.to_string());
    }
}

/// Writes `route` into the URL without a history entry or a `hashchange`.
fn replace_fragment(route: &Route) {
    if let Some(window) = web_sys::window()
        && let Ok(history) = window.history()
    {
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("#{route}")),
        );
    }
}

/// A seed for "New faces": 32 bits keep links short.
fn random_seed() -> u64 {
    (js_sys::Math::random() * 4_294_967_296.0) as u64
}

fn set_state(state: &str) {
    if let Some(body) = crate::dom::document().body() {
        body.set_attribute("data-state", state).ok();
    }
}

fn set_status(text: &str) {
    by_id::<HtmlElement>("progress-text").set_text_content(Some(text));
}

fn show_error(message: &str) {
    let error: HtmlElement = by_id("error");
    error.set_text_content(Some(message));
    error.set_hidden(false);
}

fn clear_error() {
    by_id::<HtmlElement>("error").set_hidden(true);
}

fn show_backend(backend: &Backend) {
    let badge: HtmlElement = by_id("backend");
    badge.set_attribute("data-backend", backend.kind.id()).ok();
    badge.set_text_content(Some(backend.kind.label()));
    let note: HtmlElement = by_id("backend-note");
    note.set_text_content(backend.fallback_reason.as_deref());
    if let Some(detail) = &backend.fallback_detail {
        note.set_title(detail);
        web_sys::console::info_1(&format!("CPU fallback: {detail}").into());
    }
}

fn show_timing(engine: &Engine, count: usize, what: &str, ms: f64) {
    let timing: HtmlElement = by_id("timing");
    timing.set_attribute("data-ms", &format!("{ms:.1}")).ok();
    timing.set_attribute("data-count", &count.to_string()).ok();
    timing.set_text_content(Some(&format!(
        "{count} {what} in {ms:.0} ms on {}",
        engine.backend.kind.label()
    )));
}

fn show_model(engine: &Engine, bytes: usize) {
    let config = &engine.config;
    by_id::<HtmlElement>("model").set_text_content(Some(&format!(
        "{size}x{size} {name}, {kb} kB of weights",
        size = config.image_size(),
        name = config.describe(),
        kb = bytes / 1000,
    )));
}

fn set_morph_exports(enabled: bool) {
    for id in ["morph-gif", "morph-strip"] {
        let button: web_sys::HtmlButtonElement = by_id(id);
        button.set_disabled(!enabled);
    }
}
