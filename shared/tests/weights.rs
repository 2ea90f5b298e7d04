//! The `.fgw` file round-trips and refuses every kind of wrong file with expected and found
//! values in its message.

use burn::tensor::{Device, Tensor, TensorData};
use facegan_model::weights::{FORMAT_VERSION, Precision, save_generator_as};
use facegan_model::{DcganConfig, WeightsError, latent_batch, load_generator, save_generator};

fn small() -> DcganConfig {
    DcganConfig::new()
        .with_image_size(32)
        .with_latent_size(8)
        .with_generator_width(4)
}

fn outputs(
    generator: &facegan_model::Generator,
    config: &DcganConfig,
    device: &Device,
) -> Vec<f32> {
    let z = latent_batch(&[1, 2, 3], config.latent_size);
    let z = Tensor::from_data(TensorData::new(z, [3, config.latent_size, 1, 1]), device);
    generator
        .forward(z)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
}

#[test]
fn round_trip_keeps_outputs_within_f16_precision() {
    let device = Device::flex();
    for config in [
        small(),
        small().with_kernel_size(5),
        small().with_image_size(64),
    ] {
        let generator = config.init_generator(&device);
        let bytes = save_generator(&generator, &config);
        let (loaded, loaded_config) = load_generator(&bytes, &device).unwrap();
        assert_eq!(loaded_config, config);
        let (a, b) = (
            outputs(&generator, &config, &device),
            outputs(&loaded, &config, &device),
        );
        assert_eq!(a.len(), 3 * 3 * config.image_size * config.image_size);
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(worst < 5e-3, "max difference {worst}");
    }
}

#[test]
fn int8_kernels_halve_the_file_and_stay_close() {
    let device = Device::flex();
    let config = small().with_image_size(64).with_generator_width(8);
    let generator = config.init_generator(&device);
    let half = save_generator(&generator, &config);
    let int8 = save_generator_as(&generator, &config, Precision::Int8);
    let ratio = int8.len() as f64 / half.len() as f64;
    assert!(ratio < 0.56, "q8 file is {ratio:.2} of the f16 one");
    let (loaded, _) = load_generator(&int8, &device).unwrap();
    let (a, b) = (
        outputs(&generator, &config, &device),
        outputs(&loaded, &config, &device),
    );
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    let mean = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32;
    // Outputs span [-1, 1]: 0.02 is 2.5 of 255 levels. (The trained model's figures are in
    // docs/web-page.md; this checks the encoding on an untrained one.)
    assert!(worst < 0.02, "max difference {worst}");
    assert!(mean < 0.004, "mean difference {mean}");

    // Truncating a q8 file is caught by its own length rule.
    let error = load_generator(&int8[..int8.len() - 1], &device).unwrap_err();
    assert!(matches!(error, WeightsError::Length { .. }), "{error}");
}

#[test]
fn version_1_files_still_load() {
    let device = Device::flex();
    let config = small();
    let generator = config.init_generator(&device);
    let bytes = save_generator(&generator, &config);
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let header = String::from_utf8(bytes[16..16 + header_len].to_vec()).unwrap();
    // A version 1 header: no encoding fields, everything f16.
    let old_header = header.replace(",\"encoding\":\"f16\"", "");
    assert_ne!(old_header, header);
    let mut old = b"FACEGANW".to_vec();
    old.extend_from_slice(&1u32.to_le_bytes());
    old.extend_from_slice(&(old_header.len() as u32).to_le_bytes());
    old.extend_from_slice(old_header.as_bytes());
    old.extend_from_slice(&bytes[16 + header_len..]);
    let (loaded, _) = load_generator(&old, &device).unwrap();
    assert_eq!(
        outputs(&loaded, &config, &device),
        outputs(
            &load_generator(&bytes, &device).unwrap().0,
            &config,
            &device
        )
    );
}

#[test]
fn refuses_wrong_magic_version_and_length() {
    let device = Device::flex();
    let config = small();
    let bytes = save_generator(&config.init_generator(&device), &config);

    let mut other = bytes.clone();
    other[..8].copy_from_slice(b"NOTFACEG");
    let error = load_generator(&other, &device).unwrap_err();
    assert!(matches!(error, WeightsError::Magic { .. }), "{error}");

    let mut newer = bytes.clone();
    newer[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let error = load_generator(&newer, &device).unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "unsupported weights format version: expected 1 to {FORMAT_VERSION}, found {}",
            FORMAT_VERSION + 1
        )
    );

    let error = load_generator(&bytes[..bytes.len() - 2], &device)
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        format!(
            "weights file has the wrong length: expected {} bytes, found {}",
            bytes.len(),
            bytes.len() - 2
        )
    );
    let error = load_generator(&bytes[..10], &device).unwrap_err();
    assert!(
        matches!(
            error,
            WeightsError::Truncated {
                expected: 16,
                found: 10
            }
        ),
        "{error}"
    );
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        load_generator(&longer, &device),
        Err(WeightsError::Length { .. })
    ));
}

#[test]
fn refuses_wrong_architecture_and_tensor_shapes() {
    let device = Device::flex();
    let config = small();
    let bytes = save_generator(&config.init_generator(&device), &config);
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let header = String::from_utf8(bytes[16..16 + header_len].to_vec()).unwrap();
    let rewrite = |header: String| {
        let mut out = bytes[..12].to_vec();
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&bytes[16 + header_len..]);
        out
    };

    let renamed = rewrite(header.replace("dcgan-generator", "cyclegan-generator"));
    let error = load_generator(&renamed, &device).unwrap_err().to_string();
    assert_eq!(
        error,
        "wrong architecture: expected \"dcgan-generator\", found \"cyclegan-generator\""
    );

    // The header claims a wider first layer than the tensors it lists.
    let lied = rewrite(header.replacen("\"generator_width\":4", "\"generator_width\":5", 1));
    let error = load_generator(&lied, &device).unwrap_err().to_string();
    assert!(
        error.contains("expected blocks.0.conv.weight with shape [8, 20, 4, 4]"),
        "{error}"
    );
    assert!(
        error.contains("found blocks.0.conv.weight with shape [8, 16, 4, 4]"),
        "{error}"
    );

    // What `--init-generator` checks before loading (trainer/tests/cli.rs, resnet.rs): another
    // latent size is another generator; the discriminator's fields do not shape it.
    assert!(!config.same_generator(&config.clone().with_latent_size(9)));
    let wider_critic = config
        .clone()
        .with_discriminator_width(config.discriminator_width * 2);
    assert!(config.same_generator(&wider_critic));
}

#[test]
fn translators_round_trip_with_their_palette_and_are_not_generators() {
    use facegan_model::TranslatorConfig;
    use facegan_model::translate::CODE_SIZE;
    use facegan_model::weights::{load_translator, save_translator_as};

    let device = Device::flex();
    let config = TranslatorConfig::new()
        .with_image_size(32)
        .with_width(4)
        .with_max_width(8);
    let unet = config.init_unet(&device);
    let palette: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i * 50; CODE_SIZE]).collect();
    let run = |unet: &facegan_model::UNet| {
        let sketch = Tensor::<4>::ones([1, 1, 32, 32], &device);
        let code = Tensor::<2>::full([1, CODE_SIZE], 0.3, &device);
        unet.forward(sketch, code)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    };
    for precision in [Precision::Half, Precision::Int8] {
        let bytes = save_translator_as(&unet, &config, palette.clone(), precision);
        let (loaded, loaded_config, loaded_palette) = load_translator(&bytes, &device).unwrap();
        assert_eq!(loaded_config, config);
        assert_eq!(loaded_palette.len(), 5);
        assert_eq!(loaded_palette[2], [100.0 / 127.5 - 1.0; CODE_SIZE]);
        let worst = run(&unet)
            .iter()
            .zip(run(&loaded))
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 0.02, "{precision:?}: worst difference {worst}");

        let error = load_generator(&bytes, &device).unwrap_err().to_string();
        assert_eq!(
            error,
            "wrong architecture: expected \"dcgan-generator\", found \"unet-translator\""
        );
        let truncated = &bytes[..bytes.len() - 1];
        let error = load_translator(truncated, &device).unwrap_err().to_string();
        assert!(error.contains("wrong length"), "{error}");
    }
}

/// The ResNet generator's file: the same round trip, its architecture named in the header and
/// chosen by the loader; the DCGAN-only loader refuses it, naming both architectures.
#[test]
fn a_resnet_generator_round_trips_and_is_told_apart() {
    use facegan_model::weights::{Precision, save_resnet_generator_as};
    use facegan_model::{FaceGenerator, GeneratorConfig, ResnetConfig, load_face_generator};

    let device = Device::flex();
    let config = ResnetConfig::new()
        .with_image_size(32)
        .with_latent_size(8)
        .with_generator_width(4)
        .with_depth(2);
    device.seed(9);
    let generator = config.init_generator(&device);
    let z = latent_batch(&[1, 2, 3], 8);
    let z = Tensor::<4>::from_data(TensorData::new(z, [3, 8, 1, 1]), &device);
    let before = generator
        .forward(z.clone())
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let bytes = save_resnet_generator_as(&generator, &config, Precision::Half);

    let (loaded, loaded_config) = load_face_generator(&bytes, &device).unwrap();
    assert_eq!(loaded_config, GeneratorConfig::Resnet(config.clone()));
    assert!(matches!(loaded, FaceGenerator::Resnet(_)));
    let after = loaded.forward(z).into_data().try_to_vec::<f32>().unwrap();
    let worst = before
        .iter()
        .zip(&after)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    assert!(worst < 5e-3, "max difference {worst}");

    let error = load_generator(&bytes, &device).unwrap_err().to_string();
    assert!(
        error.contains("dcgan-generator") && error.contains("resnet-generator"),
        "{error}"
    );

    // A DCGAN file still loads through the loader of either architecture.
    let dcgan = small();
    let bytes = save_generator(&dcgan.init_generator(&device), &dcgan);
    let (_, found) = load_face_generator(&bytes, &device).unwrap();
    assert_eq!(found, GeneratorConfig::Dcgan(dcgan));
}
