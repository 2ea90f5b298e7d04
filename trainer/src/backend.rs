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

/// Which kernels run the convolutions on a GPU (the CPU always takes facegan's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GpuConvolutions {
    /// Burn's CubeCL kernels, chosen by its autotune.
    Burn,
    /// facegan's matrix-product form: patches times the kernel, in Burn tensor operations
    /// (`shared/src/kernels/matmul_conv.rs`).
    Matmul,
}

impl GpuConvolutions {
    /// Makes this the process's choice.
    pub fn select(self) {
        facegan_model::kernels::use_matmul_convolutions(self == Self::Matmul);
    }
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

/// One device of `--devices`: `cpu`, `wgpu`, `wgpu:N` (the N-th discrete GPU), `cuda:N`, or
/// `ws://HOST:PORT` (the first device a `facegan serve-device` offers there).
pub fn parse_device(spec: &str) -> anyhow::Result<Selected> {
    let spec = spec.trim();
    if spec.starts_with("ws://") || spec.starts_with("wss://") {
        return remote(spec);
    }
    let (kind, index) = match spec.split_once(':') {
        Some((kind, index)) => {
            let index = index.parse::<usize>().with_context(|| {
                format!("--devices: `{spec}` has no device number after `{kind}:`")
            })?;
            (kind, Some(index))
        }
        None => (spec, None),
    };
    match (kind, index) {
        ("cpu", None) => Ok(cpu()),
        ("wgpu", None) => select(BackendChoice::Wgpu),
        ("wgpu", Some(index)) => Ok(Selected {
            device: Device::wgpu(burn::tensor::DeviceKind::DiscreteGpu(index)),
            name: format!("wgpu:{index} (discrete GPU {index})"),
        }),
        ("cuda", index) => cuda_number(index.unwrap_or(0)),
        ("cpu", Some(_)) => bail!(
            "--devices: `{spec}`: the CPU is one device (`cpu`); its cores already share each \
             step"
        ),
        _ => bail!(
            "--devices: `{spec}` is not a device; write cpu, wgpu, wgpu:N or cuda:N, \
             comma-separated"
        ),
    }
}

#[cfg(feature = "remote")]
fn remote(url: &str) -> anyhow::Result<Selected> {
    let host = burn::remote::RemoteHost::websocket(url);
    let device = host
        .devices()
        .with_context(|| {
            format!("--devices: cannot reach {url} (is `facegan serve-device` running?)")
        })?
        .into_iter()
        .next()
        .with_context(|| format!("--devices: {url} serves no device"))?;
    Ok(Selected {
        device,
        name: format!("{url} (remote)"),
    })
}

#[cfg(not(feature = "remote"))]
fn remote(url: &str) -> anyhow::Result<Selected> {
    bail!(
        "--devices: {url}: this facegan was built without remote devices; rebuild with \
         `cargo build --release --features remote` (docs/training.md#several-devices)"
    )
}

/// `facegan serve-device`: serves this machine's device to other machines' `--devices`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Port to listen on (all interfaces: for a trusted network only).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// The device to serve.
    #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
    pub backend: BackendChoice,
    /// Stop after this many seconds (0 = serve until Ctrl-C); tests use it.
    #[arg(long, default_value_t = 0)]
    pub seconds: u64,
}

#[cfg(feature = "remote")]
pub fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    use burn::server::{RemoteServer, WebSocketTransport};
    let selected = select(args.backend)?;
    log::info!(
        "serving {} on ws://0.0.0.0:{} (Ctrl-C stops)",
        selected.name,
        args.port
    );
    if args.seconds > 0 {
        let seconds = args.seconds;
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(seconds));
            log::info!("served {seconds} s: stopping");
            std::process::exit(0);
        });
    }
    RemoteServer::new([selected.device])
        .serve(WebSocketTransport::new(args.port))
        .map_err(|error| anyhow::anyhow!("cannot serve on port {}: {error:?}", args.port))
}

#[cfg(not(feature = "remote"))]
pub fn serve(_args: &ServeArgs) -> anyhow::Result<()> {
    bail!(
        "this facegan was built without remote devices; rebuild with `cargo build --release \
         --features remote` (docs/training.md#several-devices)"
    )
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

fn cuda() -> anyhow::Result<Selected> {
    cuda_number(0)
}

#[cfg(feature = "cuda")]
fn cuda_number(index: usize) -> anyhow::Result<Selected> {
    Ok(Selected {
        device: Device::cuda(index),
        name: format!("cuda:{index}"),
    })
}

#[cfg(not(feature = "cuda"))]
fn cuda_number(_index: usize) -> anyhow::Result<Selected> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_lists_name_what_is_wrong() {
        assert_eq!(parse_device(" cpu ").unwrap().name, "cpu (flex)");
        assert_eq!(
            parse_device("wgpu:1").unwrap().name,
            "wgpu:1 (discrete GPU 1)"
        );
        for (spec, expected) in [
            ("cpu:1", "the CPU is one device"),
            ("wgpu:x", "`wgpu:x` has no device number"),
            ("tpu", "`tpu` is not a device"),
        ] {
            let message = parse_device(spec).err().unwrap().to_string();
            assert!(message.contains(expected), "{spec}: {message}");
        }
    }
}
