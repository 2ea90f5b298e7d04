//! Data-parallel training (`--devices`): replicas on several devices train as one device with
//! the same global batch would, keep the same weights, and resume exactly; and the case that
//! rules out Burn's own all-reduce here.

mod common;

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use common::{pixel_difference, shapes_folder, take_turn, temp_dir, tiny_config};
use facegan_model::SplitMix64;
use facegan_trainer::adversarial::OptimizerOptions;
use facegan_trainer::export::generator_from_run;
use facegan_trainer::generate::faces_for_seeds;
use facegan_trainer::run::{
    self, Batch, LOG_FILE, LoggedStep, Outcome, Panel, RunConfig, RunOptions, SampleGrid, Sections,
    Trainable, checkpoint, load_module, module_bytes, optimizer_bytes, optimizer_step, read_log,
};
use serde::{Deserialize, Serialize};

/// A regression with no randomness and no BatchNorm: the mean of the replicas' gradients,
/// weighted by their shares, is exactly the whole batch's, so any difference from one device
/// is rounding.
const ITEMS: usize = 24;
const INPUTS: usize = 4;
const OUTPUTS: usize = 6;
const BATCH: usize = 8;
const EPOCHS: usize = 4;
const STEPS: usize = EPOCHS * ITEMS / BATCH;

#[derive(Module, Debug)]
struct Network {
    hidden: Linear,
    output: Linear,
}

impl Network {
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.output.forward(relu(self.hidden.forward(x)))
    }

    fn weights(&self) -> Vec<f32> {
        let mut all: Vec<f32> = Vec::new();
        for tensor in [
            self.hidden.weight.val().reshape([-1]),
            self.output.weight.val().reshape([-1]),
        ] {
            all.extend(tensor.into_data().try_to_vec::<f32>().unwrap());
        }
        all
    }
}

struct Regression {
    network: Network,
    optimizer: ModuleOptimizer,
}

#[derive(Debug, Clone, Serialize)]
struct RegressionConfig {
    #[serde(flatten)]
    run: RunOptions,
    optimizer: OptimizerOptions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RegressionLosses {
    loss: f32,
}

/// Every replica's weights after each step: (thread name, step, weights).
static TRACE: Mutex<Vec<(String, u64, Vec<f32>)>> = Mutex::new(Vec::new());

/// The data set: inputs and targets, fixed.
fn item(index: usize) -> (Vec<f32>, Vec<f32>) {
    let mut rng = SplitMix64::new(index as u64 + 1);
    let x: Vec<f32> = (0..INPUTS).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    let y = (0..OUTPUTS)
        .map(|o| {
            (x.iter().enumerate())
                .map(|(i, v)| v * ((i * 3 + o) % 5) as f32 / 4.0)
                .sum::<f32>()
                .sin()
        })
        .collect();
    (x, y)
}

fn batch_of(indices: &[usize], device: &Device) -> (Tensor<2>, Tensor<2>) {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for &index in indices {
        let (x, y) = item(index);
        xs.extend(x);
        ys.extend(y);
    }
    let n = indices.len();
    (
        Tensor::from_data(TensorData::new(xs, [n, INPUTS]), device),
        Tensor::from_data(TensorData::new(ys, [n, OUTPUTS]), device),
    )
}

impl RunConfig for RegressionConfig {
    type Architecture = usize;
    type Data = usize;

    fn run(&self) -> &RunOptions {
        &self.run
    }

    fn architecture(&self) -> usize {
        OUTPUTS
    }

    fn load_data(&self) -> anyhow::Result<usize> {
        Ok(ITEMS)
    }

    fn data_len(data: &usize) -> usize {
        *data
    }
}

impl Trainable for Regression {
    const KIND: &'static str = "regression";
    type Config = RegressionConfig;
    type Losses = RegressionLosses;

    fn fresh(config: &RegressionConfig, device: &Device) -> anyhow::Result<Self> {
        device.seed(config.run.seed);
        Ok(Self {
            network: Network {
                hidden: LinearConfig::new(INPUTS, 16).init(device),
                output: LinearConfig::new(16, OUTPUTS).init(device),
            },
            optimizer: config.optimizer.adam(),
        })
    }

    fn step(
        &mut self,
        config: &RegressionConfig,
        _data: &usize,
        batch: Batch,
        device: &Device,
    ) -> RegressionLosses {
        let (x, y) = batch_of(batch.indices, device);
        let loss = (self.network.forward(x) - y).powf_scalar(2.0).mean();
        let value = loss.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(loss.backward(), &self.network);
        self.network = optimizer_step(
            &mut self.optimizer,
            config.optimizer.generator_lr,
            self.network.clone(),
            grads,
        );
        let name = std::thread::current().name().unwrap_or("?").to_owned();
        TRACE
            .lock()
            .unwrap()
            .push((name, batch.step, self.network.weights()));
        RegressionLosses { loss: value }
    }

    fn summary(losses: &RegressionLosses) -> Vec<(&'static str, f32)> {
        vec![("loss", losses.loss)]
    }

    fn learning_rates(config: &RegressionConfig) -> Vec<(&'static str, f64)> {
        vec![("learning_rate", config.optimizer.generator_lr)]
    }

    fn panels(_config: &RegressionConfig) -> Vec<Panel> {
        vec![Panel::steps("Loss", &["loss"])]
    }

    fn samples(&self, _: &RegressionConfig, _: &usize, _: &Device) -> anyhow::Result<SampleGrid> {
        Ok(SampleGrid {
            tiles: vec![vec![128; 3]],
            size: 1,
            columns: 1,
        })
    }

    fn save(&self) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
        Ok(vec![
            ("network", module_bytes(&self.network)?),
            ("optimizer", optimizer_bytes(&self.optimizer)?),
        ])
    }

    fn load(
        config: &RegressionConfig,
        sections: &mut Sections,
        device: &Device,
    ) -> anyhow::Result<Self> {
        let fresh = Self::fresh(config, device)?;
        Ok(Self {
            network: load_module(fresh.network, sections.take("network")?)?,
            optimizer: config.optimizer.adam_from(sections.take("optimizer")?)?,
        })
    }
}

fn regression_config() -> RegressionConfig {
    RegressionConfig {
        run: RunOptions::new(EPOCHS, BATCH),
        optimizer: OptimizerOptions {
            generator_lr: 2e-2,
            ..OptimizerOptions::default()
        },
    }
}

/// The main replica's weights as the run's checkpoint holds them.
fn saved_weights(run: &Path) -> Vec<f32> {
    let device = Device::flex();
    let mut saved = checkpoint::load(&run.join(checkpoint::FILE)).unwrap();
    let fresh = Regression::fresh(&regression_config(), &device).unwrap();
    let network = load_module(fresh.network, saved.sections.take("network").unwrap()).unwrap();
    network.weights()
}

fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn train_regression(run: &Path, replicas: usize, stop_at_once: bool) -> Outcome {
    train_regression_on(run, &vec![Device::flex(); replicas], stop_at_once)
}

fn train_regression_on(run: &Path, devices: &[Device], stop_at_once: bool) -> Outcome {
    run::train_on::<Regression>(
        &regression_config(),
        run,
        devices,
        &AtomicBool::new(stop_at_once),
    )
    .unwrap()
    .outcome
}

/// Stated tolerance: the weights of one device and of two or three replicas (shares 4+4 and
/// 3+3+2 of a batch of 8) agree within 1e-5 after 12 Adam steps: float rounding of sums taken
/// in another order.
#[test]
fn replicas_train_as_one_device_would_and_keep_the_same_weights() {
    let _turn = take_turn();
    let dir = temp_dir();
    TRACE.lock().unwrap().clear();
    train_regression(&dir.path().join("one"), 1, false);
    let one = saved_weights(&dir.path().join("one"));
    for replicas in [2, 3] {
        TRACE.lock().unwrap().clear();
        let run = dir.path().join(format!("replicas{replicas}"));
        assert_eq!(train_regression(&run, replicas, false), Outcome::Finished);
        let apart = largest_difference(&one, &saved_weights(&run));
        println!("{replicas} replicas against one device: weights within {apart:e}");
        assert!(apart < 1e-5, "{replicas} replicas: weights {apart} apart");

        // Every replica, each on its own thread, took every step and holds the main one's
        // weights, bit for bit.
        let trace = TRACE.lock().unwrap();
        let threads: std::collections::BTreeSet<&str> =
            trace.iter().map(|(name, _, _)| name.as_str()).collect();
        assert_eq!(threads.len(), replicas, "{threads:?}");
        for step in 1..=STEPS as u64 {
            let at_step: Vec<&Vec<f32>> = trace
                .iter()
                .filter(|(_, s, _)| *s == step)
                .map(|(_, _, weights)| weights)
                .collect();
            assert_eq!(at_step.len(), replicas, "step {step}");
            assert!(
                at_step.windows(2).all(|pair| pair[0] == pair[1]),
                "step {step}"
            );
        }
    }
}

#[test]
fn a_resumed_two_device_run_continues_exactly() {
    let _turn = take_turn();
    let dir = temp_dir();
    let straight = dir.path().join("straight");
    train_regression(&straight, 2, false);
    let resumed = dir.path().join("resumed");
    assert_eq!(train_regression(&resumed, 2, true), Outcome::Interrupted);
    assert_eq!(train_regression(&resumed, 2, false), Outcome::Finished);
    assert_eq!(saved_weights(&straight), saved_weights(&resumed));
    let losses = |run: &Path| -> Vec<f32> {
        let rows: Vec<LoggedStep<RegressionLosses>> = read_log(&run.join(LOG_FILE)).unwrap();
        rows.iter().map(|row| row.losses.loss).collect()
    };
    assert_eq!(losses(&straight).len(), STEPS);
    assert_eq!(losses(&straight), losses(&resumed));
}

/// The DCGAN (BatchNorm per replica, each replica's noise from its own seeded stream) on two
/// replicas: it trains, and an interrupted run resumes to the same generator.
#[test]
fn a_two_device_dcgan_resumes_to_the_same_faces() {
    let _turn = take_turn();
    let (dir, data) = shapes_folder(64, 9);
    let config = tiny_config(&data, 2, 16);
    let devices = vec![Device::flex(), Device::flex()];
    let straight = dir.path().join("straight");
    run::train_on::<facegan_trainer::dcgan::Dcgan>(
        &config,
        &straight,
        &devices,
        &AtomicBool::new(false),
    )
    .unwrap();
    let resumed = dir.path().join("resumed");
    for stop in [true, false] {
        run::train_on::<facegan_trainer::dcgan::Dcgan>(
            &config,
            &resumed,
            &devices,
            &AtomicBool::new(stop),
        )
        .unwrap();
    }
    let device = Device::flex();
    let seeds: Vec<u64> = (0..8).collect();
    let faces = |run: &Path| {
        let (generator, model) = generator_from_run(run, &device).unwrap();
        faces_for_seeds(&generator, &model, &seeds, &device).unwrap()
    };
    let (worst, _) = pixel_difference(&faces(&straight), &faces(&resumed));
    assert_eq!(worst, 0, "the resumed two-device run draws other faces");
    assert!(straight.join("report.html").exists());
}

/// The minimal failing case behind `replicas.rs`: Burn 0.22's collective all-reduce refuses CPU
/// devices as soon as a group of them is made (only CUDA with NCCL implements it). When this
/// test fails, Burn has learnt it: time to use it.
#[test]
fn burn_all_reduce_refuses_cpu_devices() {
    use burn::tensor::distributed::{DistributedConfig, DistributedContext, ReduceOperation};
    let attempt = std::panic::catch_unwind(|| {
        DistributedContext::init(
            vec![Device::flex(), Device::flex()],
            DistributedConfig {
                all_reduce_op: ReduceOperation::Mean,
            },
        )
    });
    let error = attempt.expect_err("Burn made a distributed group of CPU devices");
    let message = error
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| error.downcast_ref::<&str>().map(|text| text.to_string()))
        .unwrap_or_default();
    println!("Burn's answer: {message}");
    assert!(
        message.contains("not supported"),
        "another refusal than expected: {message}"
    );
}

/// With `--features remote` (`scripts/test-remote.sh`): a replica on a device that a second
/// process serves on 127.0.0.1 trains with a local one as one device would. The server stops by
/// itself after two minutes.
#[cfg(feature = "remote")]
#[test]
fn a_replica_on_a_served_device_trains_as_one_device_would() {
    let _turn = take_turn();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Server(
        common::facegan()
            .args([
                "serve-device",
                "--port",
                &port.to_string(),
                "--seconds",
                "120",
            ])
            .spawn()
            .unwrap(),
    );
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed().as_secs() < 60,
            "the device server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let url = format!("ws://127.0.0.1:{port}");
    let remote = facegan_trainer::backend::parse_device(&url).unwrap().device;
    let dir = temp_dir();
    train_regression(&dir.path().join("one"), 1, false);
    let run = dir.path().join("remote");
    assert_eq!(
        train_regression_on(&run, &[Device::flex(), remote], false),
        Outcome::Finished
    );
    let apart = largest_difference(
        &saved_weights(&dir.path().join("one")),
        &saved_weights(&run),
    );
    println!("local + remote replica against one device: weights within {apart:e}");
    assert!(apart < 1e-5, "weights {apart} apart");
}

/// The device server of a test, stopped and reaped when the test ends, passed or failed.
#[cfg(feature = "remote")]
struct Server(std::process::Child);

#[cfg(feature = "remote")]
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
