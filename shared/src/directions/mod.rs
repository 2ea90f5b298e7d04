//! Directions in a generator's latent space that steer a face: one per measured attribute
//! (hair and eye colour as CIELAB lightness and axes, skin and background lightness, face
//! size), fitted by `facegan directions` as InterFaceGAN does, and the strongest unsupervised
//! ones (GANSpace). Stored as a small JSON file next to the generator
//! (`anime-faces-64.directions.json`), tied to it by fingerprint.
//!
//! An edit is a list of `(direction, amount)`: the face's latent plus `amount` times each unit
//! direction. Amounts are what links store, so a link reproduces an edited face exactly on
//! any backend. A named colour ("pink hair") is reached by [`ColourSearch`] (search.rs):
//! measure the face, move along the colour's three directions towards the colour's swatch,
//! measure again.

mod search;

pub use search::{COLOUR_STEP_SHARE, ColourReach, ColourSearch, Found, MAX_COLOUR_STEPS};

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::attributes::{
    Attributes, EYE_COLOURS, HAIR_COLOURS, Lab, eye_colour_name, hair_colour_name,
};
use crate::fingerprint::fingerprint;

/// The `format` field of a directions file.
pub const FORMAT: &str = "facegan-directions";
/// The version of the file this code writes and reads.
pub const VERSION: u32 = 1;
/// Amounts are rounded to this step (what a link stores).
pub const AMOUNT_STEP: f32 = 0.01;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Directions {
    pub format: String,
    pub version: u32,
    /// [`fingerprint`] of the generator file the directions were fitted on.
    pub generator_fingerprint: String,
    /// The generator in words, for error messages.
    pub generator: String,
    pub latent_size: usize,
    pub directions: Vec<Direction>,
    pub hair_colours: Vec<Swatch>,
    pub eye_colours: Vec<Swatch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Direction {
    /// Short name used in links and on the command line: `hair_l`, `pca1`.
    pub name: String,
    /// What a person sees it do: "hair lightness", "head turns left".
    pub label: String,
    /// Change of its attribute per unit amount (fitted; 0 for unsupervised directions).
    pub gain: f32,
    /// Share of its attribute's variance over latents that the linear fit explains, on
    /// latents held out of the fit (0 for unsupervised directions).
    pub r2: f32,
    /// Unit-length latent direction.
    pub vector: Vec<f32>,
}

impl Direction {
    /// Whether the page offers it as a slider: every direction but the a and b axes of the
    /// named colours, which the swatches drive (their lightness stays a slider: a lighter or
    /// darker version of a colour).
    pub fn is_slider(&self) -> bool {
        // Lightness comes first in a part's names.
        ColourPart::of_direction(&self.name)
            .is_none_or(|part| part.direction_names()[0] == self.name)
    }
}

/// A named colour and the typical measured colour of the generator's faces that carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Swatch {
    pub name: String,
    /// CIELAB `[l, a, b]`.
    pub lab: [f32; 3],
}

impl Swatch {
    pub fn colour(&self) -> Lab {
        Lab::new(self.lab[0], self.lab[1], self.lab[2])
    }
}

/// Which colour a swatch edit changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourPart {
    Hair,
    Eyes,
}

impl ColourPart {
    pub const ALL: [ColourPart; 2] = [Self::Hair, Self::Eyes];

    pub fn id(self) -> &'static str {
        match self {
            Self::Hair => "hair",
            Self::Eyes => "eyes",
        }
    }

    /// The colour names offered for this part (swatches exist for those the generator draws).
    pub fn offered_names(self) -> &'static [&'static str] {
        match self {
            Self::Hair => &HAIR_COLOURS,
            Self::Eyes => &EYE_COLOURS,
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|part| part.id() == id)
    }

    /// The part whose colour `direction` is one of the three directions of, if any.
    pub fn of_direction(direction: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|part| part.direction_names().contains(&direction))
    }

    /// The three directions (lightness, a, b) that move this colour.
    pub fn direction_names(self) -> [&'static str; 3] {
        match self {
            Self::Hair => ["hair_l", "hair_a", "hair_b"],
            Self::Eyes => ["eyes_l", "eyes_a", "eyes_b"],
        }
    }

    /// The furthest a colour edit moves along one of its directions, in latent standard
    /// deviations: far enough for nearly every colour the generator draws, not so far that
    /// the face falls apart. Tuned on the DCGAN, whose eye edits changed little else, so they
    /// may go further; the ResNet's eye edits move more of the face (docs/face-controls.md).
    pub fn max_amount(self) -> f32 {
        match self {
            Self::Hair => 7.0,
            Self::Eyes => 9.0,
        }
    }

    pub fn measured(self, attributes: &Attributes) -> Lab {
        match self {
            Self::Hair => attributes.hair,
            Self::Eyes => attributes.eyes,
        }
    }

    pub fn name_of(self, colour: Lab) -> &'static str {
        match self {
            Self::Hair => hair_colour_name(colour),
            Self::Eyes => eye_colour_name(colour),
        }
    }
}

/// Amounts along named directions.
pub type Edit = Vec<(String, f32)>;

#[derive(Debug, Clone, PartialEq)]
pub enum DirectionsError {
    Json(String),
    Format {
        found: String,
    },
    Version {
        found: u32,
    },
    Generator {
        expected: String,
        found: String,
        generator: String,
    },
    LatentSize {
        direction: String,
        expected: usize,
        found: usize,
    },
    UnknownDirection {
        name: String,
        known: Vec<String>,
    },
    UnknownColour {
        part: &'static str,
        name: String,
        known: Vec<String>,
    },
}

impl fmt::Display for DirectionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(message) => write!(f, "not a directions file: {message}"),
            Self::Format { found } => {
                write!(
                    f,
                    "not a directions file: expected format {FORMAT:?}, found {found:?}"
                )
            }
            Self::Version { found } => write!(
                f,
                "unsupported directions version: expected {VERSION}, found {found}"
            ),
            Self::Generator {
                expected,
                found,
                generator,
            } => write!(
                f,
                "the directions belong to another generator: they were fitted on the file with \
                 fingerprint {expected} ({generator}), this generator's is {found}; run \
                 `facegan directions` on it"
            ),
            Self::LatentSize {
                direction,
                expected,
                found,
            } => write!(
                f,
                "direction {direction} has {found} values where the latent has {expected}"
            ),
            Self::UnknownDirection { name, known } => write!(
                f,
                "no direction named {name:?}; known: {}",
                known.join(", ")
            ),
            Self::UnknownColour { part, name, known } => write!(
                f,
                "no {part} colour named {name:?}; known: {}",
                known.join(", ")
            ),
        }
    }
}

impl std::error::Error for DirectionsError {}

impl Directions {
    /// Reads a directions file and checks that it belongs to `generator_bytes`.
    pub fn load(json: &[u8], generator_bytes: &[u8]) -> Result<Self, DirectionsError> {
        let directions: Self =
            serde_json::from_slice(json).map_err(|e| DirectionsError::Json(e.to_string()))?;
        if directions.format != FORMAT {
            return Err(DirectionsError::Format {
                found: directions.format,
            });
        }
        if directions.version != VERSION {
            return Err(DirectionsError::Version {
                found: directions.version,
            });
        }
        let found = fingerprint(generator_bytes);
        if directions.generator_fingerprint != found {
            return Err(DirectionsError::Generator {
                expected: directions.generator_fingerprint,
                found,
                generator: directions.generator,
            });
        }
        for direction in &directions.directions {
            if direction.vector.len() != directions.latent_size {
                return Err(DirectionsError::LatentSize {
                    direction: direction.name.clone(),
                    expected: directions.latent_size,
                    found: direction.vector.len(),
                });
            }
        }
        Ok(directions)
    }

    /// Compact JSON, one line (the page downloads it).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("directions serialise")
    }

    pub fn direction(&self, name: &str) -> Result<&Direction, DirectionsError> {
        self.directions
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| DirectionsError::UnknownDirection {
                name: name.to_string(),
                known: self.directions.iter().map(|d| d.name.clone()).collect(),
            })
    }

    pub fn swatches(&self, part: ColourPart) -> &[Swatch] {
        match part {
            ColourPart::Hair => &self.hair_colours,
            ColourPart::Eyes => &self.eye_colours,
        }
    }

    pub fn swatch(&self, part: ColourPart, name: &str) -> Result<&Swatch, DirectionsError> {
        let swatches = self.swatches(part);
        swatches
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| DirectionsError::UnknownColour {
                part: part.id(),
                name: name.to_string(),
                known: swatches.iter().map(|s| s.name.clone()).collect(),
            })
    }

    /// `z` moved by `edit`: `z + sum(amount * direction)`.
    pub fn apply(&self, z: &[f32], edit: &[(String, f32)]) -> Result<Vec<f32>, DirectionsError> {
        let mut moved = z.to_vec();
        for (name, amount) in edit {
            let direction = self.direction(name)?;
            for (value, step) in moved.iter_mut().zip(&direction.vector) {
                *value += amount * step;
            }
        }
        Ok(moved)
    }
}

/// The amount of `name` in `edit` (0 when absent).
pub fn amount_of(edit: &[(String, f32)], name: &str) -> f32 {
    edit.iter()
        .find(|(n, _)| n == name)
        .map_or(0.0, |(_, amount)| *amount)
}

/// Sets `name`'s amount, rounded to [`AMOUNT_STEP`] (zero removes it), keeping the order.
pub fn set_amount(edit: &mut Edit, name: &str, amount: f32) {
    let amount = round_amount(amount);
    match edit.iter().position(|(n, _)| n == name) {
        Some(i) if amount == 0.0 => {
            edit.remove(i);
        }
        Some(i) => edit[i].1 = amount,
        None if amount != 0.0 => edit.push((name.to_string(), amount)),
        None => {}
    }
}

pub fn round_amount(amount: f32) -> f32 {
    (amount / AMOUNT_STEP).round() * AMOUNT_STEP
}

/// `name:amount,name:amount`: how an edit is written in links and on the command line.
pub fn format_edit(edit: &[(String, f32)]) -> String {
    edit.iter()
        .map(|(name, amount)| format!("{name}:{amount:.2}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads [`format_edit`]'s form (also `name=amount`, the command line's).
pub fn parse_edit(text: &str) -> Result<Edit, String> {
    let mut edit = Edit::new();
    for part in text.split(',').filter(|p| !p.is_empty()) {
        let (name, amount) = part
            .split_once([':', '='])
            .ok_or_else(|| format!("{part}: expected NAME:AMOUNT"))?;
        let amount: f32 = amount
            .parse()
            .ok()
            .filter(|a: &f32| a.is_finite())
            .ok_or_else(|| format!("{part}: the amount is not a number"))?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("{part}: a direction name is letters, digits and _"));
        }
        let total = amount_of(&edit, name) + amount;
        set_amount(&mut edit, name, total);
    }
    Ok(edit)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn unit(latent: usize, axis: usize) -> Vec<f32> {
        (0..latent)
            .map(|i| f32::from(u8::from(i == axis)))
            .collect()
    }

    pub(crate) fn sample(generator: &[u8]) -> Directions {
        let names = ["hair_l", "hair_a", "hair_b", "pca1"];
        Directions {
            format: FORMAT.into(),
            version: VERSION,
            generator_fingerprint: fingerprint(generator),
            generator: "test generator".into(),
            latent_size: 4,
            directions: names
                .iter()
                .enumerate()
                .map(|(i, name)| Direction {
                    name: name.to_string(),
                    label: name.replace('_', " "),
                    gain: 10.0,
                    r2: 0.5,
                    vector: unit(4, i),
                })
                .collect(),
            hair_colours: vec![Swatch {
                name: "pink".into(),
                lab: [75.0, 30.0, 0.0],
            }],
            eye_colours: vec![],
        }
    }

    #[test]
    fn round_trips_through_json_and_refuses_other_generators() {
        let directions = sample(b"generator");
        let json = directions.to_json();
        assert_eq!(
            Directions::load(json.as_bytes(), b"generator").unwrap(),
            directions
        );
        let error = Directions::load(json.as_bytes(), b"another").unwrap_err();
        let message = error.to_string();
        assert!(message.contains(&fingerprint(b"generator")), "{message}");
        assert!(message.contains(&fingerprint(b"another")), "{message}");
        let mut wrong = directions.clone();
        wrong.directions[0].vector.pop();
        let error = Directions::load(wrong.to_json().as_bytes(), b"generator").unwrap_err();
        assert_eq!(
            error.to_string(),
            "direction hair_l has 3 values where the latent has 4"
        );
        let error = Directions::load(b"{}", b"generator").unwrap_err();
        assert!(error.to_string().starts_with("not a directions file"));
    }

    #[test]
    fn colour_axes_are_swatches_and_the_rest_sliders() {
        let sliders: Vec<bool> = sample(b"g")
            .directions
            .iter()
            .map(Direction::is_slider)
            .collect();
        // hair_l, hair_a, hair_b, pca1
        assert_eq!(sliders, [true, false, false, true]);
    }

    #[test]
    fn edits_move_the_latent_and_round_trip_as_text() {
        let directions = sample(b"g");
        let edit = parse_edit("hair_l:0.5,pca1=-1.25").unwrap();
        assert_eq!(format_edit(&edit), "hair_l:0.50,pca1:-1.25");
        assert_eq!(parse_edit(&format_edit(&edit)).unwrap(), edit);
        let moved = directions.apply(&[1.0, 1.0, 1.0, 1.0], &edit).unwrap();
        assert_eq!(moved, vec![1.5, 1.0, 1.0, -0.25]);
        let unknown = directions.apply(&[0.0; 4], &[("nose".into(), 1.0)]);
        assert!(unknown.unwrap_err().to_string().contains("known: hair_l"));
        assert!(parse_edit("hair_l:x").is_err());
        assert!(parse_edit("hair l:1").is_err());
    }
}
