//! Reaching a named colour ("pink hair"), face by face: measure the face, move along the
//! colour's three directions (lightness, a, b) towards the colour's swatch, draw, measure
//! again.
//!
//! The first move trusts the fitted gains (how far a unit along `eyes_a` moves the average
//! face's eye colour along a). Every later move also uses what this face did: the map from the
//! three amounts to the measured L, a, b is corrected by each observed move (Broyden's secant
//! update). Eye colour is far from linear in the latent (R^2 0.3-0.5 on the ResNet): a face
//! whose eyes darken as they redden needs another mix of the three directions than the
//! average face, and the fitted gains alone sent such faces to the amount limit.

use super::{ColourPart, Directions, DirectionsError, Edit, Swatch, amount_of, set_amount};
use crate::attributes::{Attributes, measure};

/// Measure-and-move rounds a colour edit takes at most.
pub const MAX_COLOUR_STEPS: usize = 16;
/// Share of the predicted move the first round takes, shrinking in later rounds
/// (`share / (1 + round / 3)`): a full move overshoots small bins (brown hair, gold eyes) back
/// and forth.
pub const COLOUR_STEP_SHARE: f32 = 0.75;
/// A move shorter than this (latent units, all three amounts together) teaches the map
/// nothing: the measured change is then mostly measurement noise.
const MIN_LEARNING_MOVE: f32 = 0.1;
/// The learned map is dropped (back to the fitted gains) when its determinant falls below
/// this share of the fitted one's: nearly singular, it would ask for huge moves.
const MIN_DETERMINANT_SHARE: f32 = 0.1;

type Matrix = [[f32; 3]; 3];

/// One face's way to one named colour.
#[derive(Debug, Clone)]
pub struct ColourReach {
    part: ColourPart,
    swatch: Swatch,
    /// The fitted gains on the diagonal: where every face starts, and the fallback.
    fitted: Matrix,
    /// Measured change of (L, a, b) (rows) per unit of each of the part's three directions
    /// (columns), as learned on this face.
    map: Matrix,
    /// The amounts and measured colour of the previous round.
    last: Option<([f32; 3], [f32; 3])>,
}

impl ColourReach {
    pub fn new(
        directions: &Directions,
        part: ColourPart,
        swatch: Swatch,
    ) -> Result<Self, DirectionsError> {
        let mut fitted = [[0.0; 3]; 3];
        for (i, name) in part.direction_names().into_iter().enumerate() {
            fitted[i][i] = directions.direction(name)?.gain;
        }
        Ok(Self {
            part,
            swatch,
            fitted,
            map: fitted,
            last: None,
        })
    }

    /// How far a face is from this colour: 0 when its measured colour has the name, else the
    /// CIE76 distance to the swatch.
    pub fn distance(&self, attributes: &Attributes) -> f32 {
        let measured = self.part.measured(attributes);
        if self.part.name_of(measured) == self.swatch.name {
            0.0
        } else {
            measured.distance(&self.swatch.colour())
        }
    }

    /// One round: given the face drawn with `edit` and its measured `attributes`, returns
    /// `true` when the colour is reached, else moves `edit` towards the swatch. Callers draw,
    /// measure and call again, at most [`MAX_COLOUR_STEPS`] times (the page draws
    /// asynchronously on WebGPU, so the loop is theirs; [`ColourSearch`] is that loop's state).
    pub fn step(&mut self, attributes: &Attributes, round: usize, edit: &mut Edit) -> bool {
        let measured = self.part.measured(attributes);
        if self.part.name_of(measured) == self.swatch.name {
            return true;
        }
        let names = self.part.direction_names();
        let amounts = names.map(|name| amount_of(edit, name));
        let colour = [measured.l, measured.a, measured.b];
        if let Some((amounts_before, colour_before)) = self.last {
            self.learn(
                subtract(amounts, amounts_before),
                subtract(colour, colour_before),
            );
        }
        self.last = Some((amounts, colour));

        let share = COLOUR_STEP_SHARE / (1.0 + round as f32 / 3.0);
        let missing = subtract(self.swatch.lab, colour).map(|m| share * m);
        let limit = self.part.max_amount();
        let targets = self.moves(missing, amounts, limit);
        for (name, target) in names.into_iter().zip(targets) {
            set_amount(edit, name, target);
        }
        false
    }

    /// The amounts after a move that should change the colour by `missing`, each within
    /// `limit`. A direction the move would push past its limit is held there and the others
    /// solve for what is left (least squares): the learned map may know another way to the
    /// colour, where the fitted gains alone kept pushing against the limit.
    fn moves(&self, missing: [f32; 3], amounts: [f32; 3], limit: f32) -> [f32; 3] {
        // Directions whose fitted gain is zero never move.
        let mut free: [bool; 3] = std::array::from_fn(|i| self.fitted[i][i].abs() >= 1e-6);
        let mut targets = amounts;
        loop {
            let fixed_change: [f32; 3] = std::array::from_fn(|i| {
                if free[i] {
                    0.0
                } else {
                    targets[i] - amounts[i]
                }
            });
            let rest = subtract(missing, multiply(&self.map, fixed_change));
            let Some(change) = least_squares(&self.map, rest, free) else {
                return targets;
            };
            let mut clamped = false;
            for i in 0..3 {
                if !free[i] {
                    continue;
                }
                targets[i] = amounts[i] + change[i];
                if targets[i].abs() > limit {
                    targets[i] = targets[i].clamp(-limit, limit);
                    free[i] = false;
                    clamped = true;
                }
            }
            if !clamped {
                return targets;
            }
        }
    }

    /// Broyden's update: the smallest change of the map that explains the last move.
    fn learn(&mut self, moved: [f32; 3], changed: [f32; 3]) {
        let length2 = dot(moved, moved);
        if length2 < MIN_LEARNING_MOVE * MIN_LEARNING_MOVE {
            return;
        }
        let predicted = multiply(&self.map, moved);
        let mut map = self.map;
        for (i, row) in map.iter_mut().enumerate() {
            for (j, value) in row.iter_mut().enumerate() {
                *value += (changed[i] - predicted[i]) * moved[j] / length2;
            }
        }
        // Kept while each direction still moves its own axis the way the fit says and the
        // map stays well invertible; otherwise one noisy measurement would steer the face
        // away, so start again from the fit.
        let same_signs = (0..3).all(|i| map[i][i] * self.fitted[i][i] > 0.0);
        let invertible =
            determinant(&map).abs() >= MIN_DETERMINANT_SHARE * determinant(&self.fitted).abs();
        self.map = if same_signs && invertible {
            map
        } else {
            self.fitted
        };
    }
}

fn subtract(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    std::array::from_fn(|i| a[i] - b[i])
}

fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn multiply(m: &Matrix, v: [f32; 3]) -> [f32; 3] {
    m.map(|row| dot(row, v))
}

fn determinant(m: &Matrix) -> f32 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

/// The `x` that minimises `|m x - y|` over the `free` entries (the others 0): Gaussian
/// elimination on the normal equations, at most three unknowns. `None` when nothing is free
/// or the free columns are (nearly) dependent.
fn least_squares(m: &Matrix, y: [f32; 3], free: [bool; 3]) -> Option<[f32; 3]> {
    let columns: Vec<usize> = (0..3).filter(|&j| free[j]).collect();
    let n = columns.len();
    if n == 0 {
        return None;
    }
    let column = |j: usize| [m[0][j], m[1][j], m[2][j]];
    // Rows of [m_F^T m_F | m_F^T y].
    let mut system: Vec<Vec<f32>> = columns
        .iter()
        .map(|&a| {
            let mut row: Vec<f32> = columns.iter().map(|&b| dot(column(a), column(b))).collect();
            row.push(dot(column(a), y));
            row
        })
        .collect();
    let scale = (0..n).map(|k| system[k][k]).fold(0.0, f32::max);
    for k in 0..n {
        let pivot = (k..n).max_by(|&a, &b| system[a][k].abs().total_cmp(&system[b][k].abs()))?;
        if system[pivot][k].abs() <= 1e-6 * scale {
            return None;
        }
        system.swap(k, pivot);
        let pivot_row = system[k].clone();
        for r in (0..n).filter(|&r| r != k) {
            let factor = system[r][k] / pivot_row[k];
            for (value, pivot) in system[r].iter_mut().zip(&pivot_row).skip(k) {
                *value -= factor * pivot;
            }
        }
    }
    let mut x = [0.0; 3];
    for (k, &j) in columns.iter().enumerate() {
        x[j] = system[k][n] / system[k][k];
    }
    Some(x)
}

/// A face edited towards named colours: the first drawn face that shows them all, or else the
/// drawn face closest to them (the sum of [`ColourReach::distance`]s).
#[derive(Debug, Clone)]
pub struct Found {
    pub edit: Edit,
    /// Every asked colour was reached within [`MAX_COLOUR_STEPS`] rounds.
    pub reached: bool,
    /// Measure-and-move rounds taken (for a miss, the round of the closest face).
    pub rounds: usize,
    /// The face as drawn with `edit` (RGB8), and its measurements.
    pub face: Vec<u8>,
    pub attributes: Attributes,
}

/// Reaching named colours for many faces at once, round by round: the caller draws what
/// [`ColourSearch::to_draw`] lists (natively in one batch, or asynchronously on the page's
/// WebGPU) and hands the faces to [`ColourSearch::observe`], until nothing is left to draw.
pub struct ColourSearch<'a> {
    directions: &'a Directions,
    latents: Vec<Vec<f32>>,
    edits: Vec<Edit>,
    /// Per face, one search per asked colour.
    reaches: Vec<Vec<ColourReach>>,
    /// Per face, the drawn face closest to the asked colours so far, with its distance.
    closest: Vec<Option<(f32, Found)>>,
    found: Vec<Option<Found>>,
    round: usize,
    size: usize,
}

impl<'a> ColourSearch<'a> {
    /// Faces `latents`, each starting from its edit in `starts`, drawn `size` pixels wide;
    /// refused when the directions lack one of the targets' directions.
    pub fn new(
        directions: &'a Directions,
        latents: Vec<Vec<f32>>,
        starts: Vec<Edit>,
        targets: Vec<(ColourPart, Swatch)>,
        size: usize,
    ) -> Result<Self, DirectionsError> {
        assert_eq!(latents.len(), starts.len(), "one start edit per latent");
        let reach = targets
            .into_iter()
            .map(|(part, swatch)| ColourReach::new(directions, part, swatch))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            directions,
            reaches: vec![reach; latents.len()],
            closest: vec![None; latents.len()],
            found: vec![None; latents.len()],
            latents,
            edits: starts,
            round: 0,
            size,
        })
    }

    /// The faces still to draw this round, as `(index, moved latent)`; empty once done.
    pub fn to_draw(&self) -> Result<Vec<(usize, Vec<f32>)>, DirectionsError> {
        (0..self.latents.len())
            .filter(|&i| self.found[i].is_none())
            .map(|i| Ok((i, self.directions.apply(&self.latents[i], &self.edits[i])?)))
            .collect()
    }

    /// The faces drawn for [`ColourSearch::to_draw`]'s list, as `(index, RGB8 face)`.
    pub fn observe(&mut self, drawn: Vec<(usize, Vec<u8>)>) {
        let last = self.round == MAX_COLOUR_STEPS;
        for (i, face) in drawn {
            let attributes = measure(&face, self.size);
            // The edit this face was drawn with: the result, whatever the step does next.
            let drawn_with = self.edits[i].clone();
            let distance: f32 = self.reaches[i]
                .iter()
                .map(|reach| reach.distance(&attributes))
                .sum();
            let mut reached = true;
            for reach in &mut self.reaches[i] {
                reached &= reach.step(&attributes, self.round, &mut self.edits[i]);
            }
            let drawn = Found {
                edit: drawn_with,
                reached,
                rounds: self.round,
                face,
                attributes,
            };
            if reached {
                self.found[i] = Some(drawn);
                continue;
            }
            if self.closest[i]
                .as_ref()
                .is_none_or(|(closest, _)| distance < *closest)
            {
                self.closest[i] = Some((distance, drawn));
            }
            if last {
                self.found[i] = self.closest[i].take().map(|(_, found)| found);
            }
        }
        self.round += 1;
    }

    /// Every face's result, in order. Panics if faces are still to draw.
    pub fn finish(self) -> Vec<Found> {
        self.found
            .into_iter()
            .map(|f| f.expect("every face was drawn until it finished"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;
    use crate::attributes::Lab;
    use crate::attributes::tests::painted;

    #[test]
    fn the_first_step_moves_by_the_fitted_gains_towards_the_swatch() {
        let directions = sample(b"g");
        let swatch = directions.swatch(ColourPart::Hair, "pink").unwrap().clone();
        let mut reach = ColourReach::new(&directions, ColourPart::Hair, swatch.clone()).unwrap();
        let black = Attributes {
            hair: Lab::new(15.0, 0.0, 0.0),
            ..Attributes::default()
        };
        let mut edit = Edit::new();
        assert!(!reach.step(&black, 0, &mut edit));
        // 0.75 x (75 - 15) / 10 = 4.5 and 0.75 x (30 - 0) / 10 = 2.25 latent units.
        assert_eq!(edit, vec![("hair_l".into(), 4.5), ("hair_a".into(), 2.25)]);
        let pink = Attributes {
            hair: swatch.colour(),
            ..Attributes::default()
        };
        assert!(reach.step(&pink, 1, &mut edit));
        assert!(directions.swatch(ColourPart::Hair, "teal").is_err());
    }

    /// A face whose hair colour answers the three amounts through `truth` (not the fitted
    /// diagonal gains of 10), from black.
    fn hair_for(truth: &Matrix, edit: &Edit) -> Attributes {
        let amounts = ColourPart::Hair
            .direction_names()
            .map(|name| amount_of(edit, name));
        let [l, a, b] = multiply(truth, amounts);
        Attributes {
            hair: Lab::new(15.0 + l, a, b),
            ..Attributes::default()
        }
    }

    /// Rounds until `reach` names the face's hair its swatch's colour, starting from black
    /// (None: not within [`MAX_COLOUR_STEPS`]); `frozen` forgets what each round taught.
    fn rounds_to(reach: &mut ColourReach, truth: &Matrix, frozen: bool) -> Option<usize> {
        let mut edit = Edit::new();
        (0..=MAX_COLOUR_STEPS).find(|&round| {
            let done = reach.step(&hair_for(truth, &edit), round, &mut edit);
            if frozen {
                reach.map = reach.fitted;
                reach.last = None;
            }
            done
        })
    }

    #[test]
    fn the_map_learns_a_face_whose_colour_axes_are_mixed() {
        let directions = sample(b"g");
        let blonde = Swatch {
            name: "blonde".into(),
            lab: [80.0, 5.0, 35.0],
        };
        // This face's hair lightens at half the fitted rate, reddens as it lightens and
        // yellows as it reddens: the fitted gains (10 on the diagonal) mislead on all three.
        let truth = [[5.0, 0.0, 0.0], [5.0, 10.0, 0.0], [0.0, 3.0, 10.0]];
        let mut reach = ColourReach::new(&directions, ColourPart::Hair, blonde.clone()).unwrap();
        let learned = rounds_to(&mut reach, &truth, false).expect("blonde is reached");
        let error = |m: &Matrix| -> f32 {
            (0..3)
                .flat_map(|i| (0..3).map(move |j| (i, j)))
                .map(|(i, j)| (m[i][j] - truth[i][j]).powi(2))
                .sum()
        };
        assert!(
            error(&reach.map) < error(&reach.fitted),
            "learned {:?}, fitted {:?}",
            reach.map,
            reach.fitted
        );
        // The same face with the fitted gains alone takes far longer (or never arrives).
        let mut fitted = ColourReach::new(&directions, ColourPart::Hair, blonde).unwrap();
        let frozen = rounds_to(&mut fitted, &truth, true);
        assert!(
            frozen.is_none_or(|frozen| frozen >= learned + 3),
            "learned map: {learned} rounds, fitted gains: {frozen:?}"
        );
    }

    #[test]
    fn a_colour_out_of_reach_returns_the_closest_face_drawn() {
        let directions = sample(b"g");
        let pink = directions.swatch(ColourPart::Hair, "pink").unwrap().clone();
        // Painted faces whose hair lightness stops at 50: pink (55 or more) is out of reach.
        let paint = |latent: &[f32]| {
            let hair = Lab::new(
                (15.0 + 10.0 * latent[0]).min(50.0),
                10.0 * latent[1],
                10.0 * latent[2],
            );
            painted([250; 3], hair.to_rgb(), [252, 226, 210], [40, 90, 220])
        };
        let latents = vec![vec![0.0, 0.0, -1.0, 0.0], vec![0.0, 3.0, 0.0, 0.0]];
        let mut search = ColourSearch::new(
            &directions,
            latents,
            vec![Edit::new(); 2],
            vec![(ColourPart::Hair, pink.clone())],
            64,
        )
        .unwrap();
        let reach = ColourReach::new(&directions, ColourPart::Hair, pink).unwrap();
        let mut distances = vec![Vec::new(); 2];
        loop {
            let to_draw = search.to_draw().unwrap();
            if to_draw.is_empty() {
                break;
            }
            let drawn = to_draw
                .into_iter()
                .map(|(i, moved)| {
                    let face = paint(&moved);
                    distances[i].push(reach.distance(&measure(&face, 64)));
                    (i, face)
                })
                .collect();
            search.observe(drawn);
        }
        for (found, distances) in search.finish().iter().zip(&distances) {
            assert!(!found.reached);
            assert_eq!(distances.len(), MAX_COLOUR_STEPS + 1);
            let closest = distances.iter().copied().fold(f32::INFINITY, f32::min);
            assert_eq!(reach.distance(&found.attributes), closest, "{distances:?}");
            assert_eq!(distances[found.rounds], closest);
            assert!(closest < distances[0], "{distances:?}");
        }
    }

    #[test]
    fn a_map_turned_singular_or_backwards_falls_back_to_the_fit() {
        let directions = sample(b"g");
        let swatch = directions.swatch(ColourPart::Hair, "pink").unwrap().clone();
        let mut reach = ColourReach::new(&directions, ColourPart::Hair, swatch).unwrap();
        // Lightness went down by 20 when its direction moved up by 1: a noisy face.
        reach.learn([1.0, 0.0, 0.0], [-20.0, 0.0, 0.0]);
        assert_eq!(reach.map, reach.fitted);
        // A tiny move teaches nothing.
        reach.learn([0.05, 0.0, 0.0], [5.0, 5.0, 5.0]);
        assert_eq!(reach.map, reach.fitted);
        // A consistent one is learned exactly along the move.
        reach.learn([1.0, 0.0, 0.0], [8.0, 2.0, 0.0]);
        assert_eq!(reach.map[0], [8.0, 0.0, 0.0]);
        assert_eq!(reach.map[1], [2.0, 10.0, 0.0]);
    }

    #[test]
    fn solves_three_equations_and_fits_fewer_unknowns() {
        let m = [[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 4.0]];
        let x = least_squares(&m, multiply(&m, [1.0, -2.0, 0.5]), [true; 3]).unwrap();
        for (found, expected) in x.iter().zip([1.0, -2.0, 0.5]) {
            assert!((found - expected).abs() < 1e-5, "{x:?}");
        }
        // Only the first column free: x0 = (2 * 4 + 1 * 2) / (2^2 + 1^2) = 2.
        let x = least_squares(&m, [4.0, 0.0, 2.0], [true, false, false]).unwrap();
        assert_eq!(x, [2.0, 0.0, 0.0]);
        let singular = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1.0]];
        assert!(least_squares(&singular, [1.0; 3], [true; 3]).is_none());
        assert!(least_squares(&m, [1.0; 3], [false; 3]).is_none());
    }
}
