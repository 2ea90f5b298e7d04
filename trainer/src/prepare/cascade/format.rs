use std::path::Path;

use roxmltree::Node;

/// One LBP stump: the feature it reads, the 256-bit set of LBP codes that send it left, and its
/// two leaf values.
#[derive(Debug, Clone, PartialEq)]
pub struct WeakClassifier {
    pub feature: usize,
    pub subset: [u32; 8],
    pub left: f32,
    pub right: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub threshold: f32,
    pub classifiers: Vec<WeakClassifier>,
}

/// An LBP feature: a 3x3 grid of `width` x `height` blocks whose top-left is at (`x`, `y`)
/// in the detection window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    pub x: usize,
    pub y: usize,
    pub width: usize,
    pub height: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cascade {
    pub window_width: usize,
    pub window_height: usize,
    pub stages: Vec<Stage>,
    pub features: Vec<Feature>,
}

#[derive(Debug, thiserror::Error)]
pub enum CascadeError {
    #[error("cannot read cascade {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cascade {path} is not valid XML: {message}")]
    Xml { path: String, message: String },
    #[error("cascade {path}: {message}")]
    Format { path: String, message: String },
}

impl Cascade {
    pub fn load(path: &Path) -> Result<Self, CascadeError> {
        let text = std::fs::read_to_string(path).map_err(|source| CascadeError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses OpenCV's "new" cascade format (`opencv_storage/cascade`, featureType LBP).
    pub fn parse(xml: &str, name: &str) -> Result<Self, CascadeError> {
        let format_error = |message: String| CascadeError::Format {
            path: name.to_string(),
            message,
        };
        let document = roxmltree::Document::parse(xml).map_err(|error| CascadeError::Xml {
            path: name.to_string(),
            message: error.to_string(),
        })?;
        let cascade = document
            .descendants()
            .find(|node| node.has_tag_name("cascade"))
            .ok_or_else(|| {
                format_error("no <cascade> element (old-style Haar files are not supported)".into())
            })?;

        let feature_type = text_of(child(cascade, "featureType", name)?);
        if feature_type != "LBP" {
            return Err(format_error(format!(
                "featureType must be LBP, found {feature_type}"
            )));
        }
        let window_width = number(cascade, "width", name)? as usize;
        let window_height = number(cascade, "height", name)? as usize;

        let mut stages = Vec::new();
        for stage in child(cascade, "stages", name)?
            .children()
            .filter(|n| n.has_tag_name("_"))
        {
            let threshold = number(stage, "stageThreshold", name)? as f32;
            let mut classifiers = Vec::new();
            for weak in child(stage, "weakClassifiers", name)?
                .children()
                .filter(|n| n.has_tag_name("_"))
            {
                let nodes: Vec<i64> = parse_list(&text_of(child(weak, "internalNodes", name)?))
                    .map_err(|value| format_error(format!("bad internalNodes value {value:?}")))?;
                let leaves: Vec<f64> = parse_list(&text_of(child(weak, "leafValues", name)?))
                    .map_err(|value| format_error(format!("bad leafValues value {value:?}")))?;
                // LBP stumps: left, right, feature index, then 8 words of the category subset.
                if nodes.len() != 11 || leaves.len() != 2 {
                    return Err(format_error(format!(
                        "expected stumps with 11 internal-node values and 2 leaves, found {} and {}",
                        nodes.len(),
                        leaves.len()
                    )));
                }
                let mut subset = [0u32; 8];
                for (word, value) in subset.iter_mut().zip(&nodes[3..]) {
                    *word = *value as i32 as u32;
                }
                classifiers.push(WeakClassifier {
                    feature: usize::try_from(nodes[2])
                        .map_err(|_| format_error("negative feature index".into()))?,
                    subset,
                    left: leaves[0] as f32,
                    right: leaves[1] as f32,
                });
            }
            stages.push(Stage {
                threshold,
                classifiers,
            });
        }

        let mut features = Vec::new();
        for feature in child(cascade, "features", name)?
            .children()
            .filter(|n| n.has_tag_name("_"))
        {
            let rect: Vec<usize> = parse_list(&text_of(child(feature, "rect", name)?))
                .map_err(|value| format_error(format!("bad rect value {value:?}")))?;
            let [x, y, width, height] = rect[..] else {
                return Err(format_error(format!(
                    "a feature rect has 4 numbers, found {}",
                    rect.len()
                )));
            };
            if (x + 3 * width).max(y + 3 * height) > window_width.max(window_height) {
                return Err(format_error(format!(
                    "feature {x} {y} {width} {height} leaves the window"
                )));
            }
            features.push(Feature {
                x,
                y,
                width,
                height,
            });
        }
        if stages.is_empty() {
            return Err(format_error("no stages".into()));
        }
        if let Some(weak) = stages
            .iter()
            .flat_map(|s| &s.classifiers)
            .find(|w| w.feature >= features.len())
        {
            return Err(format_error(format!(
                "a classifier uses feature {} but only {} are defined",
                weak.feature,
                features.len()
            )));
        }
        Ok(Self {
            window_width,
            window_height,
            stages,
            features,
        })
    }
}

fn child<'a, 'input>(
    parent: Node<'a, 'input>,
    tag: &str,
    name: &str,
) -> Result<Node<'a, 'input>, CascadeError> {
    parent
        .children()
        .find(|node| node.has_tag_name(tag))
        .ok_or_else(|| CascadeError::Format {
            path: name.to_string(),
            message: format!("missing <{tag}>"),
        })
}

fn number(parent: Node<'_, '_>, tag: &str, name: &str) -> Result<f64, CascadeError> {
    let value = text_of(child(parent, tag, name)?);
    value.parse().map_err(|_| CascadeError::Format {
        path: name.to_string(),
        message: format!("<{tag}> is not a number: {value:?}"),
    })
}

fn text_of(node: Node<'_, '_>) -> String {
    node.text().unwrap_or("").trim().to_string()
}

fn parse_list<T: std::str::FromStr>(text: &str) -> Result<Vec<T>, String> {
    text.split_whitespace()
        .map(|value| value.parse().map_err(|_| value.to_string()))
        .collect()
}
