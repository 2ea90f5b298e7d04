//! Picking the device the networks run on.

use anyhow::{Context, bail};
use burn::tensor::Device;
use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendChoice {
    /// wgpu on a hardware GPU adapter when there is one, else the CPU.
    Auto,
    /// wgpu on any Vulkan, Metal or DX12 adapter (software ones included).
    Wgpu,
    /// Burn's `flex` CPU backend.
    Cpu,
    /// NVIDIA CUDA (build with `--features cuda`).
    Cuda,
}

/// The chosen device and a short name for logs.
#[derive(Debug, Clone)]
pub struct Selected {
    pub device: Device,
    pub name: String,
}

pub fn select(choice: BackendChoice) -> anyhow::Result<Selected> {
    match choice {
        BackendChoice::Cpu => Ok(cpu()),
        BackendChoice::Wgpu => {
            let adapter = first_adapter(false).context("no wgpu adapter was found")?;
            Ok(wgpu(adapter))
        }
        BackendChoice::Cuda => cuda(),
        BackendChoice::Auto => match first_adapter(true) {
            Some(adapter) => Ok(wgpu(adapter)),
            None => {
                log::warn!("no hardware GPU adapter found: training on the CPU (flex backend)");
                Ok(cpu())
            }
        },
    }
}

fn cpu() -> Selected {
    Selected {
        device: Device::flex(),
        name: "cpu (flex)".to_string(),
    }
}

fn wgpu(adapter: String) -> Selected {
    Selected {
        device: Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
        name: format!("wgpu ({adapter})"),
    }
}

#[cfg(feature = "cuda")]
fn cuda() -> anyhow::Result<Selected> {
    Ok(Selected {
        device: Device::cuda(0),
        name: "cuda:0".to_string(),
    })
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> anyhow::Result<Selected> {
    bail!(
        "this facegan was built without CUDA: rebuild with `cargo build --release --features cuda`"
    )
}

/// The name of the adapter wgpu would pick, if any; `hardware_only` skips CPU adapters such as
/// lavapipe or SwiftShader, which are far slower than the flex backend for training.
fn first_adapter(hardware_only: bool) -> Option<String> {
    use burn::tensor::wgpu::wgpu;
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters
        .iter()
        .map(|adapter| adapter.get_info())
        .find(|info| !hardware_only || info.device_type != wgpu::DeviceType::Cpu)
        .map(|info| format!("{} on {:?}", info.name, info.backend))
}
