//! Named hair and eye colours: fixed bins of CIELAB lightness, chroma and hue, drawn from
//! looking at the data set's faces (docs/face-controls.md lists them with how often they agree
//! with a person). The swatch a name stands for is measured, not set here: `facegan
//! directions` stores the typical colour of each bin among the generator's own faces.

use super::Lab;

/// The hair colours the page offers, in the order of its swatches.
pub const HAIR_COLOURS: [&str; 10] = [
    "black", "brown", "blonde", "orange", "red", "pink", "purple", "blue", "green", "silver",
];

/// The eye colours the page offers.
pub const EYE_COLOURS: [&str; 6] = ["brown", "gold", "red", "purple", "blue", "green"];

/// The name of a hair colour (one of [`HAIR_COLOURS`]).
pub fn hair_colour_name(colour: Lab) -> &'static str {
    let (l, chroma, hue) = (colour.l, colour.chroma(), colour.hue());
    if l < 22.0 || (chroma < 12.0 && l < 40.0) {
        return "black";
    }
    if chroma < 8.0 {
        return "silver";
    }
    match hue {
        h if !(20.0..330.0).contains(&h) => {
            if l >= 55.0 {
                "pink"
            } else {
                "red"
            }
        }
        // Warm hues: dull and darker is brown; vivid and dark red; light is pink or orange.
        h if h < 50.0 => {
            if chroma < 25.0 && l < 65.0 {
                "brown"
            } else if l < 60.0 {
                "red"
            } else {
                "pink"
            }
        }
        h if h < 80.0 => {
            if l < 50.0 || (chroma < 25.0 && l < 65.0) {
                "brown"
            } else if chroma >= 30.0 {
                "orange"
            } else {
                "blonde"
            }
        }
        h if h < 110.0 => {
            if l < 45.0 {
                "brown"
            } else {
                "blonde"
            }
        }
        h if h < 200.0 => "green",
        h if h < 295.0 => "blue",
        _ => "purple",
    }
}

/// The name of an eye colour (one of [`EYE_COLOURS`], or "grey" for colourless eyes, which
/// the page does not offer).
pub fn eye_colour_name(colour: Lab) -> &'static str {
    let (l, chroma, hue) = (colour.l, colour.chroma(), colour.hue());
    if chroma < 10.0 {
        return "grey";
    }
    match hue {
        h if !(40.0..340.0).contains(&h) => "red",
        h if h < 100.0 => {
            if l < 45.0 || chroma < 25.0 {
                "brown"
            } else {
                "gold"
            }
        }
        h if h < 200.0 => "green",
        h if h < 300.0 => "blue",
        _ => "purple",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hair(rgb: [u8; 3]) -> &'static str {
        hair_colour_name(Lab::from_rgb(rgb))
    }

    #[test]
    fn typical_hair_colours_get_their_names() {
        assert_eq!(hair([20, 20, 30]), "black");
        assert_eq!(hair([110, 70, 45]), "brown");
        assert_eq!(hair([245, 225, 150]), "blonde");
        assert_eq!(hair([250, 140, 40]), "orange");
        assert_eq!(hair([190, 30, 40]), "red");
        assert_eq!(hair([250, 160, 200]), "pink");
        assert_eq!(hair([130, 80, 180]), "purple");
        assert_eq!(hair([60, 100, 220]), "blue");
        assert_eq!(hair([60, 170, 90]), "green");
        assert_eq!(hair([215, 215, 220]), "silver");
    }

    #[test]
    fn typical_eye_colours_get_their_names() {
        let eye = |rgb| eye_colour_name(Lab::from_rgb(rgb));
        assert_eq!(eye([120, 70, 40]), "brown");
        assert_eq!(eye([220, 170, 40]), "gold");
        assert_eq!(eye([200, 30, 40]), "red");
        assert_eq!(eye([140, 60, 190]), "purple");
        assert_eq!(eye([50, 100, 220]), "blue");
        assert_eq!(eye([40, 160, 90]), "green");
        assert_eq!(eye([128, 128, 128]), "grey");
    }

    #[test]
    fn every_offered_name_is_reachable() {
        // Each swatch name is a bin of its classifier (the lists and the bins agree).
        let mut hair_seen = std::collections::BTreeSet::new();
        let mut eye_seen = std::collections::BTreeSet::new();
        for l in (5..100).step_by(5) {
            for a in (-80..80).step_by(8) {
                for b in (-80..80).step_by(8) {
                    let colour = Lab::new(l as f32, a as f32, b as f32);
                    hair_seen.insert(hair_colour_name(colour));
                    eye_seen.insert(eye_colour_name(colour));
                }
            }
        }
        for name in HAIR_COLOURS {
            assert!(hair_seen.contains(name), "{name}");
        }
        for name in EYE_COLOURS {
            assert!(eye_seen.contains(name), "{name}");
        }
    }
}
