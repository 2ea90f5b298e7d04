//! Which device runs the generator: WebGPU through Burn's wgpu runtime when the browser offers
//! an adapter, otherwise Burn's flex CPU backend compiled to wasm. Decided at run time.

use burn::tensor::Device;
use wasm_bindgen::JsValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    WebGpu,
    Cpu,
}

impl BackendKind {
    /// The value of the page's `data-backend` attribute (read by the browser test).
    pub fn id(self) -> &'static str {
        match self {
            Self::WebGpu => "webgpu",
            Self::Cpu => "cpu",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::WebGpu => "WebGPU",
            Self::Cpu => "CPU (wasm)",
        }
    }
}

#[derive(Clone)]
pub struct Backend {
    pub kind: BackendKind,
    pub device: Device,
    /// Why the CPU runs, when it does: one short sentence for the page.
    pub fallback_reason: Option<String>,
    /// The error behind it, for the page's tooltip and the console.
    pub fallback_detail: Option<String>,
}

impl Backend {
    pub fn cpu(reason: impl Into<String>, detail: Option<String>) -> Self {
        Self {
            kind: BackendKind::Cpu,
            device: Device::flex(),
            fallback_reason: Some(reason.into()),
            fallback_detail: detail,
        }
    }

    /// WebGPU if the browser can give an adapter and a device, the CPU otherwise; never fails.
    /// `force_cpu` comes from the page's `?backend=cpu`.
    pub async fn choose(force_cpu: bool) -> Self {
        if force_cpu {
            return Self::cpu("The link asks for the CPU (?backend=cpu).", None);
        }
        if !browser_has_webgpu() {
            return Self::cpu("This browser has no WebGPU.", None);
        }
        match Device::wgpu_options().init_async().await {
            Ok(device) => Self {
                kind: BackendKind::WebGpu,
                device,
                fallback_reason: None,
                fallback_detail: None,
            },
            Err(error) => Self::cpu(
                "This browser has WebGPU but offered no usable adapter.",
                Some(error.to_string()),
            ),
        }
    }
}

fn browser_has_webgpu() -> bool {
    let navigator = web_sys::window().map(|w| w.navigator());
    navigator
        .and_then(|n| js_sys::Reflect::get(&n, &JsValue::from_str("gpu")).ok())
        .is_some_and(|gpu| !gpu.is_undefined() && !gpu.is_null())
}
