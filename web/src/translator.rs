//! The drawing modes on the page's device: a drawing and a colouring seed in, a face out.
//! "Follows my lines" paints the drawing with the sketch-to-face U-Net; "anime face" asks the
//! sketch encoder for a latent of the page's face generator and draws that, so even a crude
//! drawing gives a face the generator can make.

use burn::tensor::{Tensor, TensorData};
use facegan_model::image::nchw_to_rgb8;
use facegan_model::translate::{
    CODE_SIZE, SketchEncoder, grey_from_rgba, palette_index, sketch_input,
};
use facegan_model::weights::{Palette, check_encoder_generator, load_encoder, load_translator};
use facegan_model::{FaceGenerator, UNet};

use crate::backend::Backend;
use crate::route::DrawMode;

/// The sketch encoder and the generator it drives.
struct Anime {
    encoder: SketchEncoder,
    generator: FaceGenerator,
    palette: Palette,
}

pub struct Translator {
    pub backend: Backend,
    /// Side of the faces (and of the models' drawings).
    pub size: usize,
    unet: UNet,
    palette: Palette,
    /// `Err`: why the "anime face" mode is unavailable, for the page.
    anime: Result<Anime, String>,
}

impl Translator {
    /// Builds the U-Net from its `.fgw` bytes, and the encoder from its bytes when it loads and
    /// belongs to the page's generator (`generator`: the `.fgw` bytes the faces come from and
    /// the generator built from them on `backend`). The errors name the file and what is wrong;
    /// only the U-Net's is fatal.
    pub fn load(
        backend: Backend,
        (unet_bytes, unet_url): (&[u8], &str),
        encoder: Option<(Result<Vec<u8>, String>, &str)>,
        (generator_bytes, generator): (&[u8], FaceGenerator),
    ) -> Result<Self, String> {
        let (unet, config, palette) = load_translator(unet_bytes, &backend.device)
            .map_err(|error| format!("cannot load the sketch weights {unet_url}: {error}"))?;
        if palette.is_empty() {
            return Err(format!(
                "the sketch weights {unet_url} have an empty palette"
            ));
        }
        let anime = match encoder {
            None => Err("this page has no sketch encoder".to_string()),
            Some((bytes, url)) => bytes.and_then(|bytes| {
                let (encoder, header, palette) = load_encoder(&bytes, &backend.device)
                    .map_err(|error| format!("cannot load the sketch encoder {url}: {error}"))?;
                check_encoder_generator(&header, generator_bytes)
                    .map_err(|error| format!("{url}: {error}"))?;
                if header.encoder.image_size != config.image_size || palette.is_empty() {
                    return Err(format!(
                        "{url}: draws {} px faces with {} colourings; the page needs {} px and a palette",
                        header.encoder.image_size,
                        palette.len(),
                        config.image_size
                    ));
                }
                Ok(Anime {
                    encoder,
                    generator,
                    palette,
                })
            }),
        };
        Ok(Self {
            backend,
            size: config.image_size,
            unet,
            palette,
            anime,
        })
    }

    /// Why the "anime face" mode is missing, if it is.
    pub fn anime_unavailable(&self) -> Option<&str> {
        self.anime.as_ref().err().map(String::as_str)
    }

    /// The face for a pad's RGBA pixels (`side * side`) in `mode`, coloured by `seed`'s
    /// palette entry.
    pub async fn face(
        &self,
        rgba: &[u8],
        side: usize,
        seed: u64,
        mode: DrawMode,
    ) -> Result<Vec<u8>, String> {
        let size = self.size;
        let input = sketch_input(&grey_from_rgba(rgba), side, size);
        let device = &self.backend.device;
        let sketch = Tensor::from_data(TensorData::new(input, [1, 1, size, size]), device);
        let code = |palette: &Palette| {
            let code = palette[palette_index(seed, palette.len())];
            Tensor::from_data(TensorData::new(code.to_vec(), [1, CODE_SIZE]), device)
        };
        // [1, 1, s, s], [1, code] -> [1, 3, s, s]
        let face = match (mode, &self.anime) {
            (DrawMode::Anime, Ok(anime)) => {
                anime
                    .encoder
                    .face(&anime.generator, sketch, code(&anime.palette))
            }
            (DrawMode::Anime, Err(reason)) => return Err(reason.clone()),
            (DrawMode::Lines, _) => self.unet.forward(sketch, code(&self.palette)),
        };
        let values = face
            .into_data_async()
            .await
            .map_err(|error| format!("the sketch model failed: {error:?}"))?
            .try_to_vec::<f32>()
            .map_err(|error| format!("the sketch model returned {error:?}"))?;
        Ok(nchw_to_rgb8(&values, size).remove(0))
    }
}
