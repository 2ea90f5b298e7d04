//! A model written only for this test trains, checkpoints and resumes through the driver:
//! proof that a new model needs no loop of its own, only `run::Trainable`.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::activation::tanh;
use burn::tensor::{Device, Tensor, TensorData};
use common::{take_turn, temp_dir};
use facegan_trainer::adversarial::{OptimizerOptions, bce_with_logits};
use facegan_trainer::run::{
    self, Batch, LOG_FILE, LoggedStep, LrDecay, Outcome, Panel, RunConfig, RunOptions, SampleGrid,
    Sections, Trainable, checkpoint, load_module, module_bytes, optimizer_bytes, optimizer_step,
    read_log,
};
use serde::{Deserialize, Serialize};

/// Tiles of 4x4 RGB; the "data set" is 32 tiles of one warm colour.
const SIDE: usize = 4;
const VALUES: usize = SIDE * SIDE * 3;
const NOISE: usize = 4;
const TARGET: f32 = 0.6;
/// 32 items in batches of 8: 4 steps an epoch.
const EPOCHS: usize = 25;
const STEPS: u64 = EPOCHS as u64 * 4;

#[derive(Module, Debug)]
struct TinyGenerator {
    layer: Linear,
}

#[derive(Module, Debug)]
struct TinyCritic {
    layer: Linear,
}

struct TinyGan {
    generator: TinyGenerator,
    critic: TinyCritic,
    generator_optimizer: ModuleOptimizer,
    critic_optimizer: ModuleOptimizer,
}

#[derive(Debug, Clone, Serialize)]
struct TinyConfig {
    #[serde(flatten)]
    run: RunOptions,
    optimizer: OptimizerOptions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TinyLosses {
    critic: f32,
    generator: f32,
}

fn noise(batch: &mut Batch, device: &Device) -> Tensor<2> {
    let n = batch.indices.len();
    let values: Vec<f32> = (0..n * NOISE).map(|_| batch.rng.normal()).collect();
    Tensor::from_data(TensorData::new(values, [n, NOISE]), device)
}

impl RunConfig for TinyConfig {
    type Architecture = usize;
    type Data = usize;

    fn run(&self) -> &RunOptions {
        &self.run
    }

    fn architecture(&self) -> usize {
        VALUES
    }

    /// The data set is implicit: 32 items of the same colour.
    fn load_data(&self) -> anyhow::Result<usize> {
        Ok(32)
    }

    fn data_len(data: &usize) -> usize {
        *data
    }
}

impl Trainable for TinyGan {
    const KIND: &'static str = "tiny";
    type Config = TinyConfig;
    type Losses = TinyLosses;

    fn fresh(config: &TinyConfig, device: &Device) -> anyhow::Result<Self> {
        device.seed(config.run.seed);
        Ok(Self {
            generator: TinyGenerator {
                layer: LinearConfig::new(NOISE, VALUES).init(device),
            },
            critic: TinyCritic {
                layer: LinearConfig::new(VALUES, 1).init(device),
            },
            generator_optimizer: config.optimizer.adam(),
            critic_optimizer: config.optimizer.adam(),
        })
    }

    fn step(
        &mut self,
        config: &TinyConfig,
        _data: &usize,
        mut batch: Batch,
        device: &Device,
    ) -> TinyLosses {
        let n = batch.indices.len();
        let real = Tensor::<2>::full([n, VALUES], TARGET, device);
        let fake = tanh(self.generator.layer.forward(noise(&mut batch, device)));
        let logits = |critic: &TinyCritic, x: Tensor<2>| critic.layer.forward(x).reshape([n]);
        let critic_loss = bce_with_logits(logits(&self.critic, real), Tensor::ones([n], device))
            + bce_with_logits(
                logits(&self.critic, fake.clone().detach()),
                Tensor::zeros([n], device),
            );
        let critic_value = critic_loss.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(critic_loss.backward(), &self.critic);
        self.critic = optimizer_step(
            &mut self.critic_optimizer,
            config.optimizer.discriminator_lr,
            self.critic.clone(),
            grads,
        );
        let generator_loss = bce_with_logits(logits(&self.critic, fake), Tensor::ones([n], device));
        let generator_value = generator_loss.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(generator_loss.backward(), &self.generator);
        self.generator = optimizer_step(
            &mut self.generator_optimizer,
            config.optimizer.generator_lr,
            self.generator.clone(),
            grads,
        );
        TinyLosses {
            critic: critic_value,
            generator: generator_value,
        }
    }

    fn summary(losses: &TinyLosses) -> Vec<(&'static str, f32)> {
        vec![("critic", losses.critic), ("generator", losses.generator)]
    }

    fn learning_rates(config: &TinyConfig) -> Vec<(&'static str, f64)> {
        config.optimizer.learning_rates()
    }

    fn panels(_config: &TinyConfig) -> Vec<Panel> {
        vec![Panel::steps("Tiny losses", &["critic", "generator"]).guide(0.7, "a guide")]
    }

    fn samples(
        &self,
        _config: &TinyConfig,
        _data: &usize,
        device: &Device,
    ) -> anyhow::Result<SampleGrid> {
        let tiles = (0..4)
            .map(|_| mean_output(&self.generator.valid(), device))
            .map(|value| vec![(value * 127.5 + 127.5) as u8; VALUES])
            .collect();
        Ok(SampleGrid {
            tiles,
            size: SIDE,
            columns: 2,
        })
    }

    fn save(&self) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
        Ok(vec![
            ("generator", module_bytes(&self.generator)?),
            ("critic", module_bytes(&self.critic)?),
            (
                "generator_optimizer",
                optimizer_bytes(&self.generator_optimizer)?,
            ),
            ("critic_optimizer", optimizer_bytes(&self.critic_optimizer)?),
        ])
    }

    fn load(config: &TinyConfig, sections: &mut Sections, device: &Device) -> anyhow::Result<Self> {
        let fresh = Self::fresh(config, device)?;
        Ok(Self {
            generator: load_module(fresh.generator, sections.take("generator")?)?,
            critic: load_module(fresh.critic, sections.take("critic")?)?,
            generator_optimizer: config
                .optimizer
                .adam_from(sections.take("generator_optimizer")?)?,
            critic_optimizer: config
                .optimizer
                .adam_from(sections.take("critic_optimizer")?)?,
        })
    }
}

/// The generator's mean output over fixed noise.
fn mean_output(generator: &TinyGenerator, device: &Device) -> f32 {
    let values: Vec<f32> = (0..64 * NOISE)
        .map(|i| ((i * 37 % 17) as f32 - 8.0) / 8.0)
        .collect();
    let z = Tensor::<2>::from_data(TensorData::new(values, [64, NOISE]), device);
    tanh(generator.layer.forward(z)).mean().into_scalar::<f32>()
}

fn config(epochs: usize) -> TinyConfig {
    TinyConfig {
        run: RunOptions::new(epochs, 8),
        optimizer: OptimizerOptions {
            generator_lr: 1e-2,
            discriminator_lr: 1e-2,
            ..OptimizerOptions::default()
        },
    }
}

fn logged(run: &Path) -> Vec<LoggedStep<TinyLosses>> {
    read_log(&run.join(LOG_FILE)).unwrap()
}

fn generator_of(run: &Path, device: &Device) -> f32 {
    let mut saved = checkpoint::load(&run.join(checkpoint::FILE)).unwrap();
    assert_eq!(saved.meta.kind, "tiny");
    let template = TinyGenerator {
        layer: LinearConfig::new(NOISE, VALUES).init(device),
    };
    let generator = load_module(template, saved.sections.take("generator").unwrap()).unwrap();
    mean_output(&generator, device)
}

#[test]
fn a_model_written_for_the_test_trains_checkpoints_and_resumes_through_the_driver() {
    let _turn = take_turn();
    let dir = temp_dir();
    let device = Device::flex();
    let straight = dir.path().join("straight");
    let resumed = dir.path().join("resumed");

    // Uninterrupted.
    let done = run::train::<TinyGan>(&config(EPOCHS), &straight, &device, &AtomicBool::new(false))
        .unwrap();
    assert_eq!((done.outcome, done.steps), (Outcome::Finished, STEPS));
    for file in [
        "config.json",
        "progress.gif",
        "samples/epoch_025.png",
        checkpoint::FILE,
        "report.html",
        "report/timeline.png",
    ] {
        assert!(straight.join(file).exists(), "{file} is missing");
    }
    // The report draws the model's own panel from what the driver logged, with no code of its
    // own for this model: a point per step for each column, the learning rates beside.
    let report = common::report_data(&straight);
    let tiny = common::panel(&report, "Tiny losses");
    for series in tiny["series"].as_array().unwrap() {
        assert_eq!(series["x"].as_array().unwrap().len(), STEPS as usize);
    }
    assert_eq!(tiny["guides"][0][0], 0.7);
    let rates = common::panel(&report, "Learning rates");
    assert_eq!(rates["series"][0]["y"][0], 1e-2);
    // It learned: the samples moved from the untrained ~0 to the data's value.
    let learned = generator_of(&straight, &device);
    println!("tiny generator's mean output after {STEPS} steps: {learned:.3} (data {TARGET})");
    assert!(
        (learned - TARGET).abs() < TARGET / 2.0,
        "the tiny GAN did not learn: {learned} against {TARGET}"
    );

    // Interrupted after its first step, then resumed to the same end: the same losses, step
    // for step, and the same generator.
    let first =
        run::train::<TinyGan>(&config(EPOCHS), &resumed, &device, &AtomicBool::new(true)).unwrap();
    assert_eq!((first.outcome, first.steps), (Outcome::Interrupted, 1));
    run::train::<TinyGan>(&config(EPOCHS), &resumed, &device, &AtomicBool::new(false)).unwrap();
    let (a, b) = (logged(&straight), logged(&resumed));
    assert_eq!(a.len(), STEPS as usize);
    assert_eq!(
        a.iter().map(|row| row.step).collect::<Vec<_>>(),
        b.iter().map(|row| row.step).collect::<Vec<_>>()
    );
    for (x, y) in a.iter().zip(&b) {
        assert!(
            (x.losses.critic - y.losses.critic).abs() < 1e-5
                && (x.losses.generator - y.losses.generator).abs() < 1e-5,
            "step {}: {:?} vs {:?}",
            x.step,
            x.losses,
            y.losses
        );
    }
    assert!((generator_of(&resumed, &device) - learned).abs() < 1e-5);

    // A run of this model is refused by another model's command, naming both.
    let (_shapes, data) = common::shapes_folder(16, 1);
    let error = facegan_trainer::dcgan::train(
        &common::tiny_config(&data, 1, 8),
        &resumed,
        &device,
        &AtomicBool::new(false),
    )
    .unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains("holds a tiny run") && message.contains("trains dcgan"),
        "{message}"
    );
}

#[test]
fn a_decay_lowers_the_rates_step_by_step_and_ends_the_run_at_its_last_step() {
    let _turn = take_turn();
    let dir = temp_dir();
    let device = Device::flex();
    let (constant, decayed) = (dir.path().join("constant"), dir.path().join("decayed"));
    let mut decaying = config(EPOCHS);
    decaying.run.lr_decay = Some("6:9".parse().unwrap());

    let done =
        run::train::<TinyGan>(&decaying, &decayed, &device, &AtomicBool::new(false)).unwrap();
    assert_eq!((done.outcome, done.steps), (Outcome::Decayed, 9));
    assert!(decayed.join(checkpoint::FILE).exists());
    // The logged rates: the flag's up to step 6, then 3/4, 1/2 and 1/4 of it.
    let report = common::report_data(&decayed);
    let rates = common::panel(&report, "Learning rates");
    let logged_rates: Vec<f64> = rates["series"][0]["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|y| y.as_f64().unwrap())
        .collect();
    let want = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25].map(|scale| scale * 1e-2);
    assert_eq!(logged_rates.len(), want.len());
    for (got, want) in logged_rates.iter().zip(want) {
        assert!((got - want).abs() < 1e-12, "{logged_rates:?}");
    }

    // The model used them: at constant rates (a decay from step 9 on) the same seed logs the
    // same losses for steps 1-7, measured before each step's update, and another at step 8.
    let mut later = config(EPOCHS);
    later.run.lr_decay = Some(LrDecay { from: 9, to: 10 });
    run::train::<TinyGan>(&later, &constant, &device, &AtomicBool::new(false)).unwrap();
    let (a, b) = (logged(&constant), logged(&decayed));
    let same = |x: &LoggedStep<TinyLosses>, y: &LoggedStep<TinyLosses>| {
        (x.losses.critic - y.losses.critic).abs() < 1e-6
    };
    assert!(a[..7].iter().zip(&b[..7]).all(|(x, y)| same(x, y)));
    assert!(!same(&a[7], &b[7]), "step 8: {:?} vs {:?}", a[7], b[7]);

    // Run again, the decay is over: nothing more. A later end trains on.
    let again =
        run::train::<TinyGan>(&decaying, &decayed, &device, &AtomicBool::new(false)).unwrap();
    assert_eq!((again.outcome, again.steps), (Outcome::Decayed, 9));
    assert_eq!(logged(&decayed).len(), 9);
    decaying.run.lr_decay = Some("6:12".parse().unwrap());
    let longer =
        run::train::<TinyGan>(&decaying, &decayed, &device, &AtomicBool::new(false)).unwrap();
    assert_eq!((longer.outcome, longer.steps), (Outcome::Decayed, 12));
}
