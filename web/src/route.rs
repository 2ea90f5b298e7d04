//! What the page shows, as it lives in the URL fragment: `#seed=42`, `#seed=42&face=45`,
//! `#seed=42&face=45&var=3`, `#seed=42&face=45&morph=99`, the drawing mode (`&draw=anime`),
//! an opened face's edit (`&edit=hair_l:0.52,pca1:-1.00&hair=pink`: amounts along the
//! generator's directions, and the colour names asked for) and an edit of the whole grid
//! (`&all=hair:pink,pca1:-1.00`: each face reaches the named colours itself).
//! A link therefore reproduces exactly the same faces: every face is a pure function of the
//! weights and these numbers.

use std::fmt;

use facegan_model::directions::{ColourPart, Edit, format_edit, parse_edit};

/// Faces in the grid unless the link says otherwise.
pub const DEFAULT_COUNT: usize = 16;
/// The most faces a link may ask for (the CPU fallback takes ~40 ms a face).
pub const MAX_COUNT: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// First seed of the grid; the grid shows `seed .. seed + count`.
    pub seed: u64,
    pub count: usize,
    /// The face opened large, by seed.
    pub face: Option<u64>,
    /// Which variation of `face` is shown large (`None`: the face itself).
    pub variation: Option<u64>,
    /// Seed the opened face morphs to.
    pub morph_to: Option<u64>,
    /// The drawing section's mode, when the visitor chose one.
    pub draw: Option<DrawMode>,
    /// The opened face's move along the directions: what it is drawn with, exactly.
    pub edit: Edit,
    /// The named colours the opened face was moved to (which swatches are lit).
    pub asked: Asked,
    /// What every grid face is asked for (its own amounts are found per face).
    pub all: Option<Asked>,
}

/// Named colours and slider amounts a visitor asked for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Asked {
    pub hair: Option<String>,
    pub eyes: Option<String>,
    /// Amounts set with sliders (never a named colour's own directions).
    pub sliders: Edit,
}

impl Asked {
    /// The colour asked of `part`, if any.
    pub fn colour(&self, part: ColourPart) -> Option<&str> {
        match part {
            ColourPart::Hair => self.hair.as_deref(),
            ColourPart::Eyes => self.eyes.as_deref(),
        }
    }

    pub fn colour_mut(&mut self, part: ColourPart) -> &mut Option<String> {
        match part {
            ColourPart::Hair => &mut self.hair,
            ColourPart::Eyes => &mut self.eyes,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.hair.is_none() && self.eyes.is_none() && self.sliders.is_empty()
    }

    /// `hair:pink,eyes:blue,pca1:1.00`
    fn parse(text: &str) -> Result<Self, String> {
        let mut asked = Self::default();
        let mut rest = Vec::new();
        for part in text.split(',').filter(|p| !p.is_empty()) {
            match part.split_once(':') {
                Some((key, name)) if let Some(colour) = ColourPart::from_id(key) => {
                    *asked.colour_mut(colour) = Some(colour_name(name)?)
                }
                _ => rest.push(part),
            }
        }
        asked.sliders = parse_edit(&rest.join(","))?;
        Ok(asked)
    }
}

impl fmt::Display for Asked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = ColourPart::ALL
            .into_iter()
            .filter_map(|part| Some(format!("{}:{}", part.id(), self.colour(part)?)))
            .collect();
        if !self.sliders.is_empty() {
            parts.push(format_edit(&self.sliders));
        }
        write!(f, "{}", parts.join(","))
    }
}

fn colour_name(name: &str) -> Result<String, String> {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase()) {
        Ok(name.to_string())
    } else {
        Err(format!("{name}: a colour name is lower-case letters"))
    }
}

/// Which network turns a drawing into a face; its name is the URL's `draw=` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawMode {
    /// "Follows my lines": the sketch-to-face U-Net paints the drawing.
    Lines,
    /// "Anime face": the sketch encoder picks a latent of the face generator.
    Anime,
}

impl DrawMode {
    pub fn id(self) -> &'static str {
        match self {
            Self::Lines => "lines",
            Self::Anime => "anime",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        match id {
            "lines" => Some(Self::Lines),
            "anime" => Some(Self::Anime),
            _ => None,
        }
    }
}

/// A fragment the page cannot follow; the page shows it and falls back to a fresh grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteError(String);

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read the link's #{}", self.0)
    }
}

impl Route {
    pub fn grid(seed: u64) -> Self {
        Self {
            seed,
            count: DEFAULT_COUNT,
            face: None,
            variation: None,
            morph_to: None,
            draw: None,
            edit: Edit::new(),
            asked: Asked::default(),
            all: None,
        }
    }

    /// Parses a fragment (with or without its `#`). An empty fragment gives `Ok(None)`.
    pub fn parse(fragment: &str) -> Result<Option<Self>, RouteError> {
        let fragment = fragment.trim_start_matches('#');
        if fragment.is_empty() {
            return Ok(None);
        }
        let mut seed = None;
        let mut route = Self::grid(0);
        for pair in fragment.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| RouteError(format!("{pair}: expected key=value")))?;
            let number = || {
                value
                    .parse::<u64>()
                    .map_err(|_| RouteError(format!("{key}={value}: expected a whole number")))
            };
            match key {
                "seed" => seed = Some(number()?),
                "n" => {
                    let count = number()? as usize;
                    if !(1..=MAX_COUNT).contains(&count) {
                        return Err(RouteError(format!(
                            "n={value}: expected 1 to {MAX_COUNT} faces"
                        )));
                    }
                    route.count = count;
                }
                "face" => route.face = Some(number()?),
                "var" => route.variation = Some(number()?),
                "morph" => route.morph_to = Some(number()?),
                "edit" => {
                    route.edit = parse_edit(value).map_err(|e| RouteError(format!("edit={e}")))?
                }
                key if let Some(part) = ColourPart::from_id(key) => {
                    let name = colour_name(value).map_err(|e| RouteError(format!("{key}={e}")))?;
                    *route.asked.colour_mut(part) = Some(name);
                }
                "all" => {
                    let asked = Asked::parse(value).map_err(|e| RouteError(format!("all={e}")))?;
                    route.all = (!asked.is_empty()).then_some(asked);
                }
                "draw" => {
                    route.draw = Some(DrawMode::from_id(value).ok_or_else(|| {
                        RouteError(format!("draw={value}: expected lines or anime"))
                    })?)
                }
                // Unknown keys are ignored so newer links still open in older pages.
                _ => {}
            }
        }
        route.seed = seed.ok_or_else(|| RouteError(format!("{fragment}: no seed=")))?;
        if route.face.is_none() {
            route.variation = None;
            route.morph_to = None;
            route.edit.clear();
            route.asked = Asked::default();
        }
        Ok(Some(route))
    }

    /// The seeds of the grid, in order.
    pub fn seeds(&self) -> Vec<u64> {
        (0..self.count as u64)
            .map(|i| self.seed.wrapping_add(i))
            .collect()
    }

    /// The same grid with the face `seed` opened (and nothing of a previous face kept), drawn
    /// with `edit` (what its grid thumbnail was drawn with).
    pub fn open(&self, seed: u64, edit: Edit) -> Self {
        Self {
            face: Some(seed),
            variation: None,
            morph_to: None,
            asked: self.all.clone().unwrap_or_default(),
            edit,
            ..self.clone()
        }
    }

    /// The same grid with no face opened.
    pub fn close(&self) -> Self {
        Self {
            face: None,
            variation: None,
            morph_to: None,
            edit: Edit::new(),
            asked: Asked::default(),
            ..self.clone()
        }
    }
}

impl fmt::Display for Route {
    /// The fragment, without `#`; `n=` only when it is not the default.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seed={}", self.seed)?;
        if self.count != DEFAULT_COUNT {
            write!(f, "&n={}", self.count)?;
        }
        if let Some(face) = self.face {
            write!(f, "&face={face}")?;
            if let Some(variation) = self.variation {
                write!(f, "&var={variation}")?;
            }
            if let Some(to) = self.morph_to {
                write!(f, "&morph={to}")?;
            }
            if !self.edit.is_empty() {
                write!(f, "&edit={}", format_edit(&self.edit))?;
            }
            for part in ColourPart::ALL {
                if let Some(name) = self.asked.colour(part) {
                    write!(f, "&{}={name}", part.id())?;
                }
            }
        }
        if let Some(all) = &self.all {
            write!(f, "&all={all}")?;
        }
        if let Some(mode) = self.draw {
            write!(f, "&draw={}", mode.id())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_round_trip_through_their_fragment() {
        let routes = [
            Route::grid(42),
            Route {
                count: 9,
                ..Route::grid(7)
            },
            Route::grid(1).open(5, Edit::new()),
            Route {
                variation: Some(3),
                morph_to: Some(99),
                ..Route::grid(u64::MAX).open(12, Edit::new())
            },
            Route {
                draw: Some(DrawMode::Anime),
                ..Route::grid(4).open(6, Edit::new())
            },
            Route {
                asked: Asked {
                    hair: Some("pink".into()),
                    eyes: Some("blue".into()),
                    sliders: Edit::new(),
                },
                ..Route::grid(4).open(6, vec![("hair_l".into(), 0.52), ("pca1".into(), -1.0)])
            },
            Route {
                all: Some(Asked {
                    hair: Some("silver".into()),
                    eyes: None,
                    sliders: vec![("pca2".into(), 1.5)],
                }),
                ..Route::grid(4)
            },
            Route {
                draw: Some(DrawMode::Lines),
                ..Route::grid(4)
            },
        ];
        for route in routes {
            let fragment = format!("#{route}");
            assert_eq!(Route::parse(&fragment), Ok(Some(route)), "{fragment}");
        }
    }

    #[test]
    fn empty_fragment_means_no_route() {
        assert_eq!(Route::parse(""), Ok(None));
        assert_eq!(Route::parse("#"), Ok(None));
    }

    #[test]
    fn bad_fragments_say_what_is_wrong() {
        let error = |fragment: &str| Route::parse(fragment).unwrap_err().to_string();
        assert!(error("#seed=abc").contains("seed=abc: expected a whole number"));
        assert!(error("#seed=1&n=0").contains("expected 1 to 64 faces"));
        assert!(error("#face=3").contains("no seed="));
        assert!(error("#seed").contains("expected key=value"));
        assert!(error("#seed=1&draw=paint").contains("expected lines or anime"));
        assert!(error("#seed=1&face=2&edit=hair_l:x").contains("the amount is not a number"));
        assert!(error("#seed=1&face=2&hair=Pink!").contains("lower-case letters"));
    }

    #[test]
    fn face_details_need_a_face() {
        let route = Route::parse("#seed=3&var=2&morph=8&edit=pca1:1&hair=red")
            .unwrap()
            .unwrap();
        assert_eq!(route, Route::grid(3));
    }

    #[test]
    fn an_opened_face_of_an_edited_grid_keeps_what_was_asked() {
        let grid = Route::parse("#seed=3&all=hair:pink,pca1:1")
            .unwrap()
            .unwrap();
        let opened = grid.open(4, vec![("hair_a".into(), 2.0)]);
        assert_eq!(opened.asked.hair.as_deref(), Some("pink"));
        assert_eq!(opened.close().edit, Edit::new());
        assert_eq!(opened.close().all, grid.all);
    }

    #[test]
    fn grid_seeds_are_consecutive_and_wrap() {
        assert_eq!(Route::grid(10).seeds()[..3], [10, 11, 12]);
        let last = Route::grid(u64::MAX).seeds();
        assert_eq!(last[..2], [u64::MAX, 0]);
        assert_eq!(last.len(), DEFAULT_COUNT);
    }
}
