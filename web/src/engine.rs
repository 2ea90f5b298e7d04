//! The generator on the chosen device, turning latents into RGB8 faces without freezing the
//! page.
//!
//! Why async chunks rather than a Web Worker: on WebGPU the work already runs off the main
//! thread and only the read-back is awaited; on the CPU fallback one face takes ~40 ms, so
//! rendering one face per chunk and yielding to the browser between chunks keeps every task
//! short. A worker would need a second wasm instance with its own copy of the weights, a
//! message protocol, and a second WebGPU device, for no gain at this model size.

use burn::tensor::{Tensor, TensorData};
use facegan_model::image::nchw_to_rgb8;
use facegan_model::weights::load_face_generator;
use facegan_model::{FaceGenerator, GeneratorConfig};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::backend::{Backend, BackendKind};

pub struct Engine {
    pub backend: Backend,
    pub config: GeneratorConfig,
    generator: FaceGenerator,
}

impl Engine {
    /// Builds the generator from `.fgw` bytes; the error names the file and what is wrong.
    pub fn load(bytes: &[u8], backend: Backend, url: &str) -> Result<Self, String> {
        let (generator, config) = load_face_generator(bytes, &backend.device)
            .map_err(|error| format!("cannot load the weights {url}: {error}"))?;
        Ok(Self {
            backend,
            config,
            generator,
        })
    }

    /// The generator itself (a handle: its weights are shared, not copied), for the drawing
    /// section's "anime face" mode.
    pub fn generator(&self) -> FaceGenerator {
        self.generator.clone()
    }

    /// Faces for `latents`, in order. `on_face(index, rgb)` sees each face as soon as its chunk
    /// is done, so the grid fills in progressively on the CPU. Stops early (returning the faces
    /// made so far) once `keep_going` says the page no longer wants them.
    pub async fn faces(
        &self,
        latents: &[Vec<f32>],
        keep_going: impl Fn() -> bool,
        mut on_face: impl FnMut(usize, &[u8]),
    ) -> Result<Vec<Vec<u8>>, String> {
        let chunk = match self.backend.kind {
            // One submission, read back asynchronously.
            BackendKind::WebGpu => latents.len().max(1),
            // ~40 ms of work per task on a laptop; see the module docs.
            BackendKind::Cpu => 1,
        };
        let size = self.config.image_size();
        let mut faces = Vec::with_capacity(latents.len());
        for part in latents.chunks(chunk) {
            if self.backend.kind == BackendKind::Cpu {
                // Lets the browser paint what the caller just changed before the first face.
                next_task().await;
            }
            if !keep_going() {
                break;
            }
            let values: Vec<f32> = part.concat();
            let z = Tensor::from_data(
                TensorData::new(values, [part.len(), self.config.latent_size(), 1, 1]),
                &self.backend.device,
            );
            // [n, latent, 1, 1] -> [n, 3, size, size]
            let images = self.generator.forward(z);
            let data = images
                .into_data_async()
                .await
                .map_err(|error| format!("the generator failed: {error:?}"))?;
            let values = data
                .try_to_vec::<f32>()
                .map_err(|error| format!("the generator returned {error:?}"))?;
            for face in nchw_to_rgb8(&values, size) {
                on_face(faces.len(), &face);
                faces.push(face);
            }
        }
        Ok(faces)
    }
}

/// Resolves in a new browser task, letting input and painting run in between.
pub async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback(&resolve);
        } else {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = JsFuture::from(promise).await;
}
