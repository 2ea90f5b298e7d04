//! `facegan export` of exported generators: exported again unchanged, averaged weight by
//! weight, refused across architectures or when a file is missing.

mod common;

use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use common::{take_turn, temp_dir};
use facegan_model::weights::{Precision, load_generator, save_generator_as};
use facegan_model::{DcganConfig, Generator};
use facegan_trainer::export::ExportPrecision;

/// Every float of a module (weights and BatchNorm statistics), in visiting order.
#[derive(Default)]
struct Floats(Vec<f32>);

impl ModuleVisitor for Floats {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0
            .extend(param.val().into_data().try_to_vec::<f32>().unwrap());
    }
}

fn floats(generator: &Generator) -> Vec<f32> {
    let mut floats = Floats::default();
    generator.visit(&mut floats);
    floats.0
}

fn config(width: usize) -> DcganConfig {
    DcganConfig::new()
        .with_image_size(32)
        .with_generator_width(width)
        .with_latent_size(16)
}

/// A freshly initialised generator of `width` from `seed`, written as f16 `.fgw`.
fn write_generator(dir: &Path, name: &str, width: usize, seed: u64) -> (Generator, PathBuf) {
    let device = Device::flex();
    device.seed(seed);
    let generator = config(width).init_generator(&device);
    let bytes = save_generator_as(&generator, &config(width), Precision::Half);
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    // What was written, f16 rounding included.
    let (loaded, _) = load_generator(&std::fs::read(&path).unwrap(), &device).unwrap();
    (loaded, path)
}

fn export(sources: &[&Path], out: &Path, standing_statistics: usize) -> anyhow::Result<()> {
    common::export(sources, out, ExportPrecision::F16, standing_statistics)
}

#[test]
fn an_exported_generator_exports_again_unchanged() {
    let _turn = take_turn();
    let dir = temp_dir();
    let (_, path) = write_generator(dir.path(), "a.fgw", 4, 1);
    let again = dir.path().join("again.fgw");
    export(&[&path], &again, 0).unwrap();
    assert!(
        std::fs::read(&path).unwrap() == std::fs::read(&again).unwrap(),
        "f16 -> f16 without new statistics should write the same bytes"
    );
}

#[test]
fn several_exported_generators_average_weight_by_weight() {
    let _turn = take_turn();
    let dir = temp_dir();
    let (a, a_path) = write_generator(dir.path(), "a.fgw", 4, 1);
    let (b, b_path) = write_generator(dir.path(), "b.fgw", 4, 2);
    let (c, c_path) = write_generator(dir.path(), "c.fgw", 4, 3);
    let out = dir.path().join("mean.fgw");
    export(&[&a_path, &b_path, &c_path], &out, 0).unwrap();
    let (mean, _) = load_generator(&std::fs::read(&out).unwrap(), &Device::flex()).unwrap();

    let (a, b, c, mean) = (floats(&a), floats(&b), floats(&c), floats(&mean));
    assert_eq!(mean.len(), a.len());
    let apart = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    assert!(apart > a.len() / 2, "the generators should differ");
    for (((x, y), z), m) in a.iter().zip(&b).zip(&c).zip(&mean) {
        let expected = (x + y + z) / 3.0;
        // f16 keeps 11 significant bits.
        assert!(
            (m - expected).abs() <= 1e-3 * expected.abs().max(1e-2),
            "{m} vs {expected}"
        );
    }
}

#[test]
fn generators_of_other_architectures_are_not_averaged() {
    let _turn = take_turn();
    let dir = temp_dir();
    let (_, narrow) = write_generator(dir.path(), "narrow.fgw", 4, 1);
    let (_, wide) = write_generator(dir.path(), "wide.fgw", 8, 2);
    let out = dir.path().join("mean.fgw");
    let error = format!("{:#}", export(&[&narrow, &wide], &out, 0).unwrap_err());
    assert!(error.contains("wide.fgw"), "{error}");
    assert!(error.contains("another generator architecture"), "{error}");
    assert!(!out.exists(), "nothing is written on failure");
}

#[test]
fn a_missing_file_among_several_is_named() {
    let _turn = take_turn();
    let dir = temp_dir();
    let (_, present) = write_generator(dir.path(), "present.fgw", 4, 1);
    let missing = dir.path().join("missing.fgw");
    let out = dir.path().join("mean.fgw");
    let error = format!("{:#}", export(&[&present, &missing], &out, 0).unwrap_err());
    assert!(error.contains("missing.fgw"), "{error}");
    assert!(error.contains("no such file"), "{error}");
    assert!(!out.exists(), "nothing is written on failure");
}
