//! Steering faces: colour swatches and sliders over the generator's directions
//! (`facegan_model::directions`, fitted by `facegan directions`), on an opened face and,
//! through "apply to all", on the whole grid. The controls only change the link; the page
//! draws what the link says.

use facegan_model::attributes::measure;
use facegan_model::directions::{
    ColourPart, ColourSearch, Directions, Edit, Found, Swatch, amount_of,
};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement};

use crate::dom::{by_id, create};
use crate::route::Asked;

/// Sliders run from minus to plus this many latent standard deviations.
pub const SLIDER_RANGE: f32 = 3.0;

pub struct Steering {
    pub directions: Directions,
}

impl Steering {
    /// Reads the directions file and checks it belongs to the page's generator.
    pub fn load(json: &[u8], generator: &[u8], url: &str) -> Result<Self, String> {
        let directions =
            Directions::load(json, generator).map_err(|error| format!("{url}: {error}"))?;
        Ok(Self { directions })
    }

    /// Fills the steering section: a swatch per named colour, a slider per direction.
    pub fn build(&self) {
        for part in ColourPart::ALL {
            let row: HtmlElement = by_id(&format!("steer-{}", part.id()));
            row.set_inner_html("");
            for swatch in self.directions.swatches(part) {
                let button: HtmlElement = create("button");
                button.set_attribute("type", "button").ok();
                button.set_attribute("data-part", part.id()).ok();
                button.set_attribute("data-colour", &swatch.name).ok();
                let [r, g, b] = swatch.colour().to_rgb();
                button
                    .set_attribute("style", &format!("background: rgb({r} {g} {b})"))
                    .ok();
                let label = format!("{} {}", swatch.name, part.id());
                button.set_attribute("title", &label).ok();
                button.set_attribute("aria-label", &label).ok();
                row.append_child(&button).ok();
            }
        }
        let sliders: HtmlElement = by_id("steer-sliders");
        sliders.set_inner_html("");
        for direction in self.directions.directions.iter().filter(|d| d.is_slider()) {
            let label: HtmlElement = create("label");
            let input: HtmlInputElement = create("input");
            input.set_type("range");
            input.set_min(&(-SLIDER_RANGE).to_string());
            input.set_max(&SLIDER_RANGE.to_string());
            input.set_step("0.05");
            input.set_value("0");
            input.set_attribute("data-direction", &direction.name).ok();
            label.set_text_content(Some(&direction.label));
            label.append_child(&input).ok();
            sliders.append_child(&label).ok();
        }
    }

    /// Shows an opened face's state: slider positions, lit swatches, measured colours.
    pub fn show(&self, edit: &Edit, asked: &Asked, face: &[u8], size: usize) {
        let document = crate::dom::document();
        if let Ok(inputs) = document.query_selector_all("#steer-sliders input") {
            for i in 0..inputs.length() {
                let Some(input) = inputs
                    .get(i)
                    .and_then(|n| n.dyn_into::<HtmlInputElement>().ok())
                else {
                    continue;
                };
                let name = input.get_attribute("data-direction").unwrap_or_default();
                input.set_value(&format!("{:.2}", amount_of(edit, &name)));
            }
        }
        for part in ColourPart::ALL {
            if let Ok(buttons) =
                document.query_selector_all(&format!("#steer-{} button", part.id()))
            {
                for i in 0..buttons.length() {
                    let Some(button) = buttons.get(i).and_then(|n| n.dyn_into::<Element>().ok())
                    else {
                        continue;
                    };
                    let lit = button.get_attribute("data-colour").as_deref() == asked.colour(part);
                    button.set_class_name(if lit { "selected" } else { "" });
                }
            }
        }
        let attributes = measure(face, size);
        let text = format!(
            "Measured: {} hair, {} eyes",
            attributes.hair_colour(),
            attributes.eye_colour()
        );
        let status: HtmlElement = by_id("steer-measured");
        status.set_text_content(Some(&text));
        status
            .set_attribute("data-hair", attributes.hair_colour())
            .ok();
        status
            .set_attribute("data-eyes", attributes.eye_colour())
            .ok();
    }

    /// The named colours of `asked`, as search targets; an unknown name is an error naming
    /// the known ones.
    pub fn targets(&self, asked: &Asked) -> Result<Vec<(ColourPart, Swatch)>, String> {
        let mut targets = Vec::new();
        for part in ColourPart::ALL {
            if let Some(name) = asked.colour(part) {
                let swatch = self
                    .directions
                    .swatch(part, name)
                    .map_err(|e| e.to_string())?;
                targets.push((part, swatch.clone()));
            }
        }
        Ok(targets)
    }

    /// Moves each latent from its start edit until its face shows `targets`, drawing with
    /// `draw` (the page's generator, asynchronous on WebGPU) round by round.
    pub async fn reach(
        &self,
        latents: Vec<Vec<f32>>,
        starts: Vec<Edit>,
        targets: Vec<(ColourPart, Swatch)>,
        size: usize,
        mut draw: impl AsyncFnMut(&[Vec<f32>]) -> Result<Vec<Vec<u8>>, String>,
    ) -> Result<Vec<Found>, String> {
        let mut search = ColourSearch::new(&self.directions, latents, starts, targets, size)
            .map_err(|e| e.to_string())?;
        loop {
            let to_draw = search.to_draw().map_err(|e| e.to_string())?;
            if to_draw.is_empty() {
                return Ok(search.finish());
            }
            let (indices, moved): (Vec<usize>, Vec<Vec<f32>>) = to_draw.into_iter().unzip();
            let faces = draw(&moved).await?;
            if faces.len() != indices.len() {
                return Err("drawing stopped: the page moved on".to_string());
            }
            search.observe(indices.into_iter().zip(faces).collect());
        }
    }
}

/// The sliders' part of an edit: amounts of directions other than those of a named colour
/// (what "apply to all" carries over).
pub fn slider_part(edit: &Edit, asked: &Asked) -> Edit {
    let named: Vec<&str> = ColourPart::ALL
        .into_iter()
        .filter(|&part| asked.colour(part).is_some())
        .flat_map(ColourPart::direction_names)
        .collect();
    edit.iter()
        .filter(|(name, _)| !named.contains(&name.as_str()))
        .cloned()
        .collect()
}
