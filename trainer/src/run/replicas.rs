//! Data-parallel training (`facegan train --devices A,B,...`): a replica of the model on each
//! device, each on a thread of its own with its share of every batch. Before each optimiser
//! step the replicas hand each other their gradients, and every replica steps its own optimiser
//! on all of them with Burn's multi-device accumulation (`MultiGradientsParams` and
//! `ModuleOptimizer::step_multi`, the pieces of burn-train's multi-device strategy). Same
//! starting weights, same gradients, same optimiser state: every replica keeps the same
//! weights, and none has to send its weights anywhere.
//!
//! Why not Burn's collective all-reduce (`DistributedContext`, `Tensor::set_distributed`): in
//! Burn 0.22 it runs on CUDA with NCCL only; flex and wgpu devices panic, a process has one flex
//! device, and remote devices cannot all-reduce with local ones (docs/burn-distributed.md; the
//! failing case is the test `burn_all_reduce_refuses_cpu_devices` in `tests/devices.rs`).
//! What is exchanged here is only handles to the gradient tensors (threads of one process);
//! the arithmetic and the transfers between devices are Burn's, so a device another machine
//! serves (`--features remote`) takes part like a local one.
//!
//! Models need one thing for this: their optimiser steps go through [`optimizer_step`].
//! BatchNorm is per replica (as in PyTorch's DDP without SyncBatchNorm): each replica
//! normalises with its own share's statistics and keeps its own running averages; the main
//! replica's are the ones saved.

use std::cell::{Cell, RefCell};
use std::ops::Range;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::Scope;

use anyhow::{Context, anyhow};
use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::{GradientsParams, ModuleOptimizer, MultiGradientsParams};
use burn::tensor::{Device, Tensor};
use facegan_model::SplitMix64;

use super::checkpoint::Sections;
use super::{Batch, DataOf, RunConfig, Trainable};

/// One optimiser step. Inside a data-parallel run, on the gradients of every replica, each
/// weighted by its share of the batch, so the step is the one the whole batch would give;
/// otherwise `optimizer.step` itself. Every model's optimiser steps go through here, so the
/// driver's `--lr-decay` factor for the step is applied here, to every model's rates.
pub fn optimizer_step<M: Module>(
    optimizer: &mut ModuleOptimizer,
    learning_rate: f64,
    module: M,
    grads: GradientsParams,
) -> M {
    let learning_rate = learning_rate * LR_SCALE.with(Cell::get);
    let member = MEMBER.with(|member| member.borrow().clone());
    match member {
        None => optimizer.step(learning_rate, module, grads),
        Some(member) => {
            let all = member.group.exchange(member.index, grads, &module);
            optimizer.step_multi(learning_rate, module, all)
        }
    }
}

/// One optimiser step of `module` down the gradient of `loss` alone (through
/// [`optimizer_step`]): the backward pass, the module's gradients, the step.
pub fn descend<M: Module>(
    optimizer: &mut ModuleOptimizer,
    learning_rate: f64,
    module: &mut M,
    loss: Tensor<1>,
) {
    let grads = GradientsParams::from_grads(loss.backward(), &*module);
    *module = optimizer_step(optimizer, learning_rate, module.clone(), grads);
}

thread_local! {
    /// The replica this thread trains, in a data-parallel run.
    static MEMBER: RefCell<Option<Member>> = const { RefCell::new(None) };
    /// The factor on the learning rates of the step this thread runs (`--lr-decay`).
    static LR_SCALE: Cell<f64> = const { Cell::new(1.0) };
}

/// Runs one model step with its learning rates scaled by `scale`.
fn scaled_step<R>(scale: f64, step: impl FnOnce() -> R) -> R {
    let before = LR_SCALE.with(|cell| cell.replace(scale));
    let result = step();
    LR_SCALE.with(|cell| cell.set(before));
    result
}

#[derive(Clone)]
struct Member {
    index: usize,
    group: Arc<Group>,
}

/// Gradients one replica handed in: scaled by its share, keyed by its own parameter ids, which
/// `ids` lists in visiting order (replicas built from saved bytes need not share ids).
struct Submission {
    grads: GradientsParams,
    ids: Vec<ParamId>,
}

/// The replicas of a run meeting at each optimiser step.
struct Group {
    /// Each replica's share of the batch, as a fraction.
    weights: Vec<f64>,
    round: Mutex<Round>,
    arrived_all: Condvar,
}

#[derive(Default)]
struct Round {
    generation: u64,
    submitted: Vec<Option<Submission>>,
    /// The last complete round's submissions, in replica order.
    gathered: Vec<Submission>,
    /// A replica's thread died: the others stop waiting for it.
    broken: bool,
}

impl Group {
    fn new(weights: Vec<f64>) -> Self {
        let round = Round {
            submitted: (0..weights.len()).map(|_| None).collect(),
            ..Round::default()
        };
        Self {
            weights,
            round: Mutex::new(round),
            arrived_all: Condvar::new(),
        }
    }

    /// Hands in replica `index`'s gradients for `module` and returns everyone's, keyed by this
    /// replica's parameter ids, once all replicas have handed theirs in.
    fn exchange<M: Module>(
        &self,
        index: usize,
        grads: GradientsParams,
        module: &M,
    ) -> MultiGradientsParams {
        let ids = parameter_ids(module);
        let grads = scaled(grads, module, self.weights[index]);
        let device = module
            .devices()
            .into_iter()
            .next()
            .expect("a module with parameters has a device");
        let mut round = self.round.lock().unwrap_or_else(|e| e.into_inner());
        assert!(!round.broken, "another replica of this run failed");
        round.submitted[index] = Some(Submission { grads, ids });
        let generation = round.generation;
        if round.submitted.iter().all(Option::is_some) {
            round.gathered = round
                .submitted
                .iter_mut()
                .map(|s| s.take().unwrap())
                .collect();
            round.generation += 1;
            self.arrived_all.notify_all();
        } else {
            while round.generation == generation && !round.broken {
                round = self
                    .arrived_all
                    .wait(round)
                    .unwrap_or_else(|e| e.into_inner());
            }
            assert!(!round.broken, "another replica of this run failed");
        }
        // Everyone's gradients under this replica's ids (tensor handles: no copies), all to be
        // summed on this replica's device: `step_multi` moves each parameter to the device its
        // gradients are summed on, and this replica's parameters must stay on its own.
        let mut rekeyed = Rekey {
            gathered: &round.gathered,
            mine: (round.gathered.iter())
                .map(|_| (GradientsParams::new(), device.clone()))
                .collect(),
            position: 0,
        };
        module.visit(&mut rekeyed);
        MultiGradientsParams {
            grads: rekeyed.mine,
        }
    }

    fn mark_broken(&self) {
        let mut round = self.round.lock().unwrap_or_else(|e| e.into_inner());
        round.broken = true;
        self.arrived_all.notify_all();
    }
}

/// Marks the group broken when its replica's thread ends, however it ends (the run is over, the
/// replica could not be built, or it panicked), so that no replica waits for it forever.
struct LeaveGroup(Arc<Group>);

impl Drop for LeaveGroup {
    fn drop(&mut self) {
        self.0.mark_broken();
    }
}

/// The float parameters' ids of a module, in visiting order.
fn parameter_ids<M: Module>(module: &M) -> Vec<ParamId> {
    struct Ids(Vec<ParamId>);
    impl ModuleVisitor for Ids {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push(param.id);
        }
    }
    let mut ids = Ids(Vec::new());
    module.visit(&mut ids);
    ids.0
}

/// `grads` times `weight`, parameter by parameter.
fn scaled<M: Module>(grads: GradientsParams, module: &M, weight: f64) -> GradientsParams {
    struct Scale {
        grads: GradientsParams,
        weight: f64,
    }
    impl ModuleVisitor for Scale {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(grad) = self.grads.remove::<D>(param.id) {
                self.grads.register(param.id, grad.mul_scalar(self.weight));
            }
        }
    }
    let mut scale = Scale { grads, weight };
    module.visit(&mut scale);
    scale.grads
}

/// Copies each replica's gradient handles under the ids this replica's module uses for the same
/// parameter (same position in visiting order).
struct Rekey<'a> {
    gathered: &'a [Submission],
    mine: Vec<(GradientsParams, Device)>,
    position: usize,
}

impl ModuleVisitor for Rekey<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let position = self.position;
        self.position += 1;
        for (submission, (mine, _)) in self.gathered.iter().zip(&mut self.mine) {
            let id = submission.ids[position];
            if let Some(grad) = submission.grads.get::<D>(id) {
                mine.register(param.id, grad);
            }
        }
    }
}

/// What the main thread asks of a worker replica: one step on its share of a batch.
struct StepOrder {
    epoch: usize,
    number: usize,
    step: u64,
    indices: Vec<usize>,
    /// Seeds the replica's random stream for this step (drawn from the run's stream, so a
    /// resumed run repeats it).
    seed: u64,
    inject_nan: bool,
}

struct Worker {
    orders: Sender<StepOrder>,
    replies: Receiver<Result<(), String>>,
}

/// The replicas of a run: the main one (the driver's model, on this thread) and a worker thread
/// for each other device.
pub struct Replicas {
    workers: Vec<Worker>,
    group: Option<Arc<Group>>,
    /// Each replica's part of a batch's indices.
    shares: Vec<Range<usize>>,
}

impl Replicas {
    /// Starts a worker per device after the first, each with a replica built from `model`'s
    /// saved sections, so every replica starts from the main one's weights and optimiser
    /// state. One device: no workers, and steps are the model's own.
    pub fn start<'scope, 'env, M: Trainable>(
        scope: &'scope Scope<'scope, 'env>,
        config: &'env M::Config,
        data: &'env DataOf<M>,
        devices: &[Device],
        model: &M,
        batch_size: usize,
    ) -> anyhow::Result<Self> {
        let shares = split(batch_size, devices.len());
        if devices.len() == 1 {
            return Ok(Self {
                workers: Vec::new(),
                group: None,
                shares,
            });
        }
        anyhow::ensure!(
            batch_size >= devices.len(),
            "--batch-size {batch_size} cannot be shared by {} devices",
            devices.len()
        );
        let weights = shares
            .iter()
            .map(|share| share.len() as f64 / batch_size as f64)
            .collect();
        let group = Arc::new(Group::new(weights));
        let sections = model.save()?;
        let mut workers = Vec::new();
        for (index, device) in devices.iter().enumerate().skip(1) {
            let (orders, order_inbox) = channel::<StepOrder>();
            let (reply_outbox, replies) = channel();
            let group = group.clone();
            let device = device.clone();
            let sections = sections.clone();
            std::thread::Builder::new()
                .name(format!("replica-{index}"))
                .spawn_scoped(scope, move || {
                    let _leave = LeaveGroup(group.clone());
                    MEMBER.with(|member| *member.borrow_mut() = Some(Member { index, group }));
                    worker::<M>(config, data, &device, sections, order_inbox, reply_outbox);
                })
                .context("cannot start a replica's thread")?;
            workers.push(Worker { orders, replies });
        }
        // Each worker says when its replica is built (or why it could not be).
        for (index, worker) in workers.iter().enumerate() {
            worker
                .replies
                .recv()
                .map_err(|_| anyhow!("the replica on device {} did not start", index + 1))?
                .map_err(|error| anyhow!("the replica on device {}: {error}", index + 1))?;
        }
        MEMBER.with(|member| {
            *member.borrow_mut() = Some(Member {
                index: 0,
                group: group.clone(),
            })
        });
        Ok(Self {
            workers,
            group: Some(group),
            shares,
        })
    }

    /// Each replica's part of a batch.
    pub fn shares(&self) -> &[Range<usize>] {
        &self.shares
    }

    /// One training step of the whole batch `indices`: each worker's share on its device, the
    /// main replica's share here; returns the main replica's losses.
    #[allow(clippy::too_many_arguments)]
    pub fn step<M: Trainable>(
        &self,
        model: &mut M,
        config: &M::Config,
        data: &DataOf<M>,
        (epoch, number, step): (usize, usize, u64),
        indices: &[usize],
        rng: &mut SplitMix64,
        inject_nan: bool,
        device: &Device,
    ) -> anyhow::Result<M::Losses> {
        for (worker, share) in self.workers.iter().zip(&self.shares[1..]) {
            let order = StepOrder {
                epoch,
                number,
                step,
                indices: indices[share.clone()].to_vec(),
                seed: rng.next_u64(),
                inject_nan,
            };
            if worker.orders.send(order).is_err() {
                // It stopped: say why if it said.
                return Err(match worker.replies.try_recv() {
                    Ok(Err(error)) => anyhow!(error),
                    _ => anyhow!("a replica's thread has stopped"),
                });
            }
        }
        let batch = Batch {
            epoch,
            number,
            step,
            indices: &indices[self.shares[0].clone()],
            rng,
            inject_nan,
        };
        let scale = config.run().lr_scale(step);
        let losses = scaled_step(scale, || model.step(config, data, batch, device));
        for (index, worker) in self.workers.iter().enumerate() {
            worker
                .replies
                .recv()
                .map_err(|_| anyhow!("the replica on device {} stopped", index + 1))?
                .map_err(|error| anyhow!("the replica on device {}: {error}", index + 1))?;
        }
        Ok(losses)
    }
}

impl Drop for Replicas {
    fn drop(&mut self) {
        // The workers end when their order channels close (dropped with `self.workers`); a
        // worker waiting for this replica's gradients (this thread is unwinding) stops too.
        if let Some(group) = &self.group {
            group.mark_broken();
        }
        MEMBER.with(|member| *member.borrow_mut() = None);
    }
}

/// A worker replica's life: build it, then take steps until the run ends.
fn worker<M: Trainable>(
    config: &M::Config,
    data: &DataOf<M>,
    device: &Device,
    sections: Vec<(&'static str, Vec<u8>)>,
    orders: Receiver<StepOrder>,
    replies: Sender<Result<(), String>>,
) {
    let mut saved = Sections::new(std::path::Path::new("the main replica"));
    for (name, bytes) in sections {
        saved.insert(name, bytes);
    }
    let train_device = device.clone().autodiff();
    let mut replica = match M::load(config, &mut saved, &train_device) {
        Ok(replica) => replica,
        Err(error) => {
            let _ = replies.send(Err(format!("cannot build the replica: {error:#}")));
            return;
        }
    };
    if replies.send(Ok(())).is_err() {
        return;
    }
    while let Ok(order) = orders.recv() {
        let mut rng = SplitMix64::new(order.seed);
        let batch = Batch {
            epoch: order.epoch,
            number: order.number,
            step: order.step,
            indices: &order.indices,
            rng: &mut rng,
            inject_nan: order.inject_nan,
        };
        let scale = config.run().lr_scale(order.step);
        scaled_step(scale, || replica.step(config, data, batch, &train_device));
        if replies.send(Ok(())).is_err() {
            return;
        }
    }
}

/// `batch` items split among `replicas` as evenly as can be (the first ones take the rest).
fn split(batch: usize, replicas: usize) -> Vec<Range<usize>> {
    let base = batch / replicas;
    let rest = batch % replicas;
    let mut start = 0;
    (0..replicas)
        .map(|index| {
            let length = base + usize::from(index < rest);
            let share = start..start + length;
            start += length;
            share
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_shared_out_evenly() {
        assert_eq!(split(64, 1), vec![(0..64)]);
        assert_eq!(split(64, 2), [0..32, 32..64]);
        assert_eq!(split(8, 3), [0..3, 3..6, 6..8]);
    }
}
