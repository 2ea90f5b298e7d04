//! What the page shows, as it lives in the URL fragment: `#seed=42`, `#seed=42&face=45`,
//! `#seed=42&face=45&var=3`, `#seed=42&face=45&morph=99`, and the drawing mode (`&draw=anime`).
//! A link therefore reproduces exactly the same faces: every face is a pure function of the
//! weights and these numbers.

use std::fmt;

/// Faces in the grid unless the link says otherwise.
pub const DEFAULT_COUNT: usize = 16;
/// The most faces a link may ask for (the CPU fallback takes ~40 ms a face).
pub const MAX_COUNT: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
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
        }
        Ok(Some(route))
    }

    /// The seeds of the grid, in order.
    pub fn seeds(&self) -> Vec<u64> {
        (0..self.count as u64)
            .map(|i| self.seed.wrapping_add(i))
            .collect()
    }

    /// The same grid with the face `seed` opened (and nothing of a previous face kept).
    pub fn open(&self, seed: u64) -> Self {
        Self {
            face: Some(seed),
            variation: None,
            morph_to: None,
            ..self.clone()
        }
    }

    /// The same grid with no face opened.
    pub fn close(&self) -> Self {
        Self {
            face: None,
            variation: None,
            morph_to: None,
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
            Route::grid(1).open(5),
            Route {
                variation: Some(3),
                morph_to: Some(99),
                ..Route::grid(u64::MAX).open(12)
            },
            Route {
                draw: Some(DrawMode::Anime),
                ..Route::grid(4).open(6)
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
    }

    #[test]
    fn face_details_need_a_face() {
        let route = Route::parse("#seed=3&var=2&morph=8").unwrap().unwrap();
        assert_eq!(route, Route::grid(3));
    }

    #[test]
    fn grid_seeds_are_consecutive_and_wrap() {
        assert_eq!(Route::grid(10).seeds()[..3], [10, 11, 12]);
        let last = Route::grid(u64::MAX).seeds();
        assert_eq!(last[..2], [u64::MAX, 0]);
        assert_eq!(last.len(), DEFAULT_COUNT);
    }
}
