//! The sketch-to-face U-Net on the page's device: a drawing and a colouring seed in, a face out.

use burn::tensor::{Tensor, TensorData};
use facegan_model::TranslatorConfig;
use facegan_model::UNet;
use facegan_model::image::nchw_to_rgb8;
use facegan_model::translate::{CODE_SIZE, grey_from_rgba, palette_index, sketch_input};
use facegan_model::weights::{Palette, load_translator};

use crate::backend::Backend;

pub struct Translator {
    pub backend: Backend,
    pub config: TranslatorConfig,
    unet: UNet,
    palette: Palette,
}

impl Translator {
    /// Builds the U-Net from `.fgw` bytes; the error names the file and what is wrong.
    pub fn load(bytes: &[u8], backend: Backend, url: &str) -> Result<Self, String> {
        let (unet, config, palette) = load_translator(bytes, &backend.device)
            .map_err(|error| format!("cannot load the sketch weights {url}: {error}"))?;
        if palette.is_empty() {
            return Err(format!("the sketch weights {url} have an empty palette"));
        }
        Ok(Self {
            backend,
            config,
            unet,
            palette,
        })
    }

    /// The face for a pad's RGBA pixels (`side * side`), coloured by `seed`'s palette entry.
    pub async fn face(&self, rgba: &[u8], side: usize, seed: u64) -> Result<Vec<u8>, String> {
        let size = self.config.image_size;
        let input = sketch_input(&grey_from_rgba(rgba), side, size);
        let code = self.palette[palette_index(seed, self.palette.len())];
        let device = &self.backend.device;
        let sketch = Tensor::from_data(TensorData::new(input, [1, 1, size, size]), device);
        let code = Tensor::from_data(TensorData::new(code.to_vec(), [1, CODE_SIZE]), device);
        // [1, 1, s, s], [1, code] -> [1, 3, s, s]
        let face = self.unet.forward(sketch, code);
        let values = face
            .into_data_async()
            .await
            .map_err(|error| format!("the sketch model failed: {error:?}"))?
            .try_to_vec::<f32>()
            .map_err(|error| format!("the sketch model returned {error:?}"))?;
        Ok(nchw_to_rgb8(&values, size).remove(0))
    }
}
