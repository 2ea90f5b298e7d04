//! The wgpu path: the generator gives the same images on wgpu as on the CPU. On machines
//! without any Vulkan/Metal/DX12 adapter (not even Mesa's lavapipe) it skips, saying so.

use burn::tensor::Device;
use facegan_model::{DcganConfig, load_face_generator, save_generator};
use facegan_trainer::backend::{BackendChoice, select};
use facegan_trainer::generate::faces_for_seeds;

#[test]
fn generator_on_wgpu_matches_the_cpu() {
    let selected = match select(BackendChoice::Wgpu) {
        Ok(selected) => selected,
        Err(error) => {
            println!(
                "SKIPPED generator_on_wgpu_matches_the_cpu: {error:#} (install mesa-vulkan-drivers)"
            );
            return;
        }
    };
    println!("wgpu adapter: {}", selected.name);
    let config = DcganConfig::new()
        .with_image_size(32)
        .with_latent_size(16)
        .with_generator_width(8);
    let cpu = Device::flex();
    cpu.seed(3);
    let generator = config.init_generator(&cpu);
    // The same weights on both devices, moved through the web file format.
    let bytes = save_generator(&generator, &config);
    let (on_cpu, config) = load_face_generator(&bytes, &cpu).unwrap();
    let (on_gpu, _) = load_face_generator(&bytes, &selected.device).unwrap();

    let seeds = [1, 2, 3, 4];
    let a = faces_for_seeds(&on_cpu, &config, &seeds, &cpu).unwrap();
    let b = faces_for_seeds(&on_gpu, &config, &seeds, &selected.device).unwrap();
    let worst = a
        .iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (i32::from(*x) - i32::from(*y)).abs())
        .max()
        .unwrap();
    println!("wgpu vs cpu: worst pixel difference {worst}/255");
    assert!(worst <= 1, "wgpu and cpu disagree by {worst}/255");
    let distinct = a.windows(2).all(|pair| pair[0] != pair[1]);
    assert!(distinct, "different seeds gave identical faces");
}
