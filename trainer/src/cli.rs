//! Command-line interface. Flag spellings are a contract: scripts depend on them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::backend::BackendChoice;
use crate::sketch::Xdog;

#[derive(Debug, Parser)]
#[command(
    name = "facegan",
    version,
    about = "Train DCGANs on anime faces and generate new ones"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Turn a folder of scraped pictures into a clean face data set.
    Prepare(PrepareArgs),
    /// Find anime faces in images with an LBP cascade and print their boxes.
    Detect(DetectArgs),
    /// Turn a folder of faces into line drawings (XDoG), named like the faces: the sketch side
    /// of the sketch-to-face models.
    Sketch(SketchArgs),
    /// Train a DCGAN on a folder of images (resumes automatically when RUN_DIR has a checkpoint).
    Train(Box<TrainArgs>),
    /// Generate faces from exported weights.
    Generate(GenerateArgs),
    /// Faces for a drawing from exported sketch-to-face weights, one colouring per seed.
    Translate(TranslateArgs),
    /// Score sketch-to-face weights on held-out sketch/face pairs (mean L1; outputs for FID).
    Evaluate(EvaluateArgs),
    /// Export a run's generator (or sketch-to-face translator) as a compact `.fgw` file (f16 or
    /// int8) for the web page.
    Export(ExportArgs),
    /// Measure training throughput and generator latency on the CPU backend.
    Bench(BenchArgs),
}

/// The model `facegan train` trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrainModel {
    /// DCGAN: faces from random latents (the page's face generator).
    Dcgan,
    /// pix2pix: faces from sketches, trained on sketch/face pairs of the same name.
    Pix2pix,
    /// CycleGAN: faces from sketches, trained on unpaired folders of sketches and faces.
    Cyclegan,
}

/// How the discriminator's targets are softened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelSmoothing {
    /// Hard targets: 1 for real, 0 for fake.
    None,
    /// Real targets drawn from --real-label-range, fake from --fake-label-range, per sample.
    Range,
    /// Real targets set to --one-sided-real-label, fake kept at 0 (Salimans et al. 2016).
    OneSided,
}

#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// What to train: a DCGAN face generator, or a sketch-to-face translator.
    #[arg(long, value_enum, default_value_t = TrainModel::Dcgan)]
    pub model: TrainModel,
    /// Folder of training images, searched recursively (jpg, png, webp, bmp, gif); the target
    /// faces for pix2pix.
    #[arg(long)]
    pub data: PathBuf,
    /// pix2pix/CycleGAN: folder of sketches (see `facegan sketch`); for pix2pix named like the
    /// faces in --data.
    #[arg(long)]
    pub sketches: Option<PathBuf>,
    /// pix2pix: weight of the L1 distance to the target against the adversarial loss.
    #[arg(long, default_value_t = 100.0)]
    pub l1_weight: f32,
    /// CycleGAN: weight of each cycle's L1 distance.
    #[arg(long, default_value_t = 10.0)]
    pub cycle_weight: f32,
    /// CycleGAN: weight of the identity losses, relative to --cycle-weight.
    #[arg(long, default_value_t = 0.5)]
    pub identity_weight: f32,
    /// pix2pix/CycleGAN: channels of the U-Net's first stage (doubled per stage up to --unet-max-width).
    #[arg(long, default_value_t = 32)]
    pub unet_width: usize,
    /// pix2pix/CycleGAN: widest U-Net stage.
    #[arg(long, default_value_t = 96)]
    pub unet_max_width: usize,
    /// pix2pix/CycleGAN: channels of the PatchGAN discriminators' first stage.
    #[arg(long, default_value_t = 32)]
    pub patch_width: usize,
    /// Run folder: config, log.csv, samples/, progress.gif and checkpoints go here.
    #[arg(long)]
    pub out: PathBuf,
    /// Where to train.
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// Total number of epochs (a resumed run continues up to this number).
    #[arg(long, default_value_t = 25)]
    pub epochs: usize,
    /// Images per step.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Side of the square training images: 32, 64 or 128.
    #[arg(long, default_value_t = 64)]
    pub image_size: usize,
    /// Seed for initialisation, shuffling, noise and labels.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Length of the latent vector z.
    #[arg(long, default_value_t = 100)]
    pub latent_size: usize,
    /// Channels of the generator's last hidden layer (doubled at each earlier stage).
    #[arg(long, default_value_t = 64)]
    pub generator_width: usize,
    /// Channels of the discriminator's first layer (doubled at each later stage).
    #[arg(long, default_value_t = 64)]
    pub discriminator_width: usize,
    /// Kernel size of the stride-2 convolutions: 4 or 5.
    #[arg(long, default_value_t = 4)]
    pub kernel_size: usize,
    /// Give the discriminator one fewer convolution stage (weaker D).
    #[arg(long)]
    pub shallow_discriminator: bool,
    /// Adam learning rate of the generator.
    #[arg(long, default_value_t = 2e-4)]
    pub generator_lr: f64,
    /// Adam learning rate of the discriminator.
    #[arg(long, default_value_t = 2e-4)]
    pub discriminator_lr: f64,
    /// Adam beta1 (both networks).
    #[arg(long, default_value_t = 0.5)]
    pub beta1: f32,
    /// Adam beta2 (both networks).
    #[arg(long, default_value_t = 0.999)]
    pub beta2: f32,
    /// Soft targets for the discriminator.
    #[arg(long, value_enum, default_value_t = LabelSmoothing::None)]
    pub label_smoothing: LabelSmoothing,
    /// Range of real targets with --label-smoothing range, as LOW,HIGH.
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = [0.7, 1.2])]
    pub real_label_range: Vec<f64>,
    /// Range of fake targets with --label-smoothing range, as LOW,HIGH.
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = [0.0, 0.3])]
    pub fake_label_range: Vec<f64>,
    /// Real target with --label-smoothing one-sided.
    #[arg(long, default_value_t = 0.9)]
    pub one_sided_real_label: f64,
    /// Fraction of discriminator targets flipped at random each step (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    pub label_noise: f64,
    /// Swap real and fake targets for the discriminator every N-th epoch (0 = never).
    #[arg(long, default_value_t = 0)]
    pub flip_labels_every: usize,
    /// Use 0 for real and 1 for fake throughout.
    #[arg(long)]
    pub swap_labels: bool,
    /// Generator updates per discriminator update.
    #[arg(long, default_value_t = 1)]
    pub generator_steps: usize,
    /// Also write a checkpoint every N steps inside an epoch (0 = only at epoch ends).
    #[arg(long, default_value_t = 500)]
    pub checkpoint_every: usize,
    /// Every N epochs, also keep the generator that draws the samples as
    /// `snapshots/epoch_NNN.fgw` (f16), for `facegan export` to average the last few (0 = never).
    #[arg(long, default_value_t = 0)]
    pub snapshot_every: usize,
    /// Use at most this many images (0 = all), e.g. for a quick trial run.
    #[arg(long, default_value_t = 0)]
    pub max_images: usize,
    /// Decay of the moving average of the generator's weights, which draws the samples and is
    /// exported (0 = use the last step's weights).
    #[arg(long, default_value_t = 0.999)]
    pub ema_decay: f64,
    /// DCGAN: start the generator from an exported `.fgw` file of the same architecture (for
    /// example the shipped weights) instead of random weights; the discriminator starts fresh.
    /// Only read when the run starts; a resumed run continues from its checkpoint.
    #[arg(long, value_name = "FILE")]
    pub init_generator: Option<PathBuf>,
    /// Test hook: make the loss NaN at this global step to exercise the NaN guard.
    #[arg(long, hide = true)]
    pub inject_nan_at_step: Option<u64>,
}

#[derive(Debug, Clone, Args)]
pub struct PrepareArgs {
    /// Folder of raw pictures, searched recursively; never modified.
    #[arg(long = "in")]
    pub input: PathBuf,
    /// Folder for the prepared PNGs and prepare-report.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Side of the written squares.
    #[arg(long, default_value_t = 64)]
    pub size: u32,
    /// Keep files whose decoded pixels are identical.
    #[arg(long)]
    pub keep_exact_duplicates: bool,
    /// Keep near-identical files (re-encoded, slightly resized or recoloured copies).
    #[arg(long)]
    pub keep_near_duplicates: bool,
    /// Largest Hamming distance between perceptual hashes (of 256 bits) of near duplicates.
    #[arg(long, default_value_t = 12)]
    pub near_threshold: u32,
    /// OpenCV LBP cascade XML (e.g. lbpcascade_animeface.xml); without it images are used
    /// whole (centre square).
    #[arg(long)]
    pub cascade: Option<PathBuf>,
    #[command(flatten)]
    pub detector: DetectorFlags,
    /// Space kept around a face, as a fraction of its side on each side.
    #[arg(long, default_value_t = 0.25)]
    pub margin: f64,
    /// Extra copies of each crop: flip, blur (comma-separated; each doubles the set).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub augment: Vec<crate::prepare::Augment>,
    /// Report what would happen without writing anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// `detectMultiScale`'s parameters, shared by `prepare` and `detect`.
#[derive(Debug, Clone, Args)]
pub struct DetectorFlags {
    /// Detector: shrink factor between pyramid levels.
    #[arg(long, default_value_t = 1.1)]
    pub scale_factor: f64,
    /// Detector: a face needs more than this many overlapping raw detections.
    #[arg(long, default_value_t = 5)]
    pub min_neighbors: usize,
    /// Detector: smallest face side in pixels.
    #[arg(long, default_value_t = 24)]
    pub min_size: usize,
    /// Detector: skip histogram equalisation.
    #[arg(long)]
    pub no_equalize: bool,
}

impl DetectorFlags {
    pub fn options(&self) -> anyhow::Result<crate::prepare::DetectOptions> {
        anyhow::ensure!(
            self.scale_factor > 1.0,
            "--scale-factor must exceed 1, found {}",
            self.scale_factor
        );
        Ok(crate::prepare::DetectOptions {
            scale_factor: self.scale_factor,
            min_neighbors: self.min_neighbors,
            min_size: self.min_size,
            max_size: 0,
            equalize: !self.no_equalize,
        })
    }
}

#[derive(Debug, Clone, Args)]
pub struct SketchArgs {
    /// Folder of face images (e.g. the output of `facegan prepare`), searched recursively.
    #[arg(long = "in")]
    pub input: PathBuf,
    /// Folder for the sketches: one PNG per face, same relative path and name.
    #[arg(long)]
    pub out: PathBuf,
    /// XDoG: blur of the fine Gaussian, in pixels of the upscaled image.
    #[arg(long, default_value_t = Xdog::default().sigma)]
    pub sigma: f32,
    /// XDoG: coarse sigma over fine sigma.
    #[arg(long, default_value_t = Xdog::default().k)]
    pub k: f32,
    /// XDoG: weight of the coarse blur (just below 1 keeps flat areas white).
    #[arg(long, default_value_t = Xdog::default().tau)]
    pub tau: f32,
    /// XDoG: differences below this become ink.
    #[arg(long, default_value_t = Xdog::default().epsilon, allow_negative_numbers = true)]
    pub epsilon: f32,
    /// XDoG: sharpness of the stroke edges.
    #[arg(long, default_value_t = Xdog::default().phi)]
    pub phi: f32,
    /// Work on the image enlarged this many times (smoother strokes at 64 px).
    #[arg(long, default_value_t = Xdog::default().upscale)]
    pub upscale: u32,
    /// Also write a PNG of the first 16 faces above their sketches, to judge the parameters.
    #[arg(long)]
    pub preview: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct DetectArgs {
    /// Images to search.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    /// OpenCV LBP cascade XML (e.g. lbpcascade_animeface.xml).
    #[arg(long)]
    pub cascade: PathBuf,
    #[command(flatten)]
    pub detector: DetectorFlags,
    /// Print one JSON object per image (file, boxes as [x, y, w, h], milliseconds).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// Exported generator (.fgw); without it, the default weights built into facegan
    /// (weights/anime-faces-64.fgw, the page's model).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Seed of the first face; face i uses seed S+i.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Number of faces (more than one makes --out a grid).
    #[arg(long, default_value_t = 1)]
    pub count: usize,
    /// Write all faces as one grid PNG (or, with --interpolate, the morph GIF) here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write one PNG per face into this folder, named seed_<S>.png.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Morph from SEED_A to SEED_B along a spherical interpolation into an animated GIF.
    #[arg(long, num_args = 2, value_names = ["SEED_A", "SEED_B"])]
    pub interpolate: Option<Vec<u64>>,
    /// Frames of the morph.
    #[arg(long, default_value_t = 16)]
    pub steps: usize,
    /// Scale every latent by this factor in (0, 1] (the truncation trick): lower gives
    /// cleaner but less varied faces; 1 draws them as trained.
    #[arg(long, default_value_t = 1.0)]
    pub truncation: f32,
    /// Where to run the generator.
    #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
    pub backend: BackendChoice,
}

#[derive(Debug, Clone, Args)]
pub struct TranslateArgs {
    /// Exported sketch-to-face weights (`facegan export` of a pix2pix or CycleGAN run).
    #[arg(long)]
    pub weights: PathBuf,
    /// The drawing: dark lines on a light background, any size (centre-cropped to a square).
    #[arg(long)]
    pub sketch: PathBuf,
    /// Seed of the first colouring; face i uses seed S+i.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Number of colourings.
    #[arg(long, default_value_t = 1)]
    pub count: usize,
    /// Write the faces as one grid PNG here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write one PNG per colouring into this folder, named seed_<S>.png.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct EvaluateArgs {
    /// Exported sketch-to-face weights.
    #[arg(long)]
    pub weights: PathBuf,
    /// Held-out sketches, named like their faces.
    #[arg(long)]
    pub sketches: PathBuf,
    /// The faces the sketches were drawn from.
    #[arg(long)]
    pub faces: PathBuf,
    /// Write each output face here, named like its sketch (for `../shared/tools/fid`).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Training run folder (holds checkpoint.fgc); or one or more generators already exported
    /// (.fgw) of the same architecture, to export again (new BatchNorm statistics, another
    /// precision), several averaged weight by weight (snapshots of one run, Polyak-style).
    #[arg(required = true, value_name = "RUN_DIR | FGW...")]
    pub sources: Vec<PathBuf>,
    /// Output weights file.
    #[arg(long, default_value = "generator.fgw")]
    pub out: PathBuf,
    /// How the tensors are stored: f16 everywhere, or int8 convolution kernels (half the size,
    /// for the web page) with f16 BatchNorm vectors.
    #[arg(long, value_enum, default_value_t = ExportPrecision::F16)]
    pub precision: ExportPrecision,
    /// Which generator of the checkpoint: the moving average of its weights (what the samples
    /// show; the last step's when the run kept no average) or the last step's.
    #[arg(long, value_enum, default_value_t = RunGenerator::Averaged)]
    pub from: RunGenerator,
    /// Measure the generator's BatchNorm statistics on its final weights over this many random
    /// latents (BigGAN's "standing statistics") instead of keeping the running averages of
    /// training, which trail the weights; 0 keeps them.
    #[arg(long, default_value_t = 4096)]
    pub standing_statistics: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunGenerator {
    Averaged,
    LastStep,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportPrecision {
    F16,
    Int8,
}

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Timed training steps (after two warm-up steps).
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Training batch size.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Print one JSON line instead of text.
    #[arg(long)]
    pub json: bool,
}
