//! DCGAN's initialisation: convolution weights from N(0, 0.02), BatchNorm scale from N(1, 0.02).

use burn::module::{Param, ParamId};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer};
use burn::tensor::{Device, Distribution, Tensor};

pub(crate) const WEIGHT_INIT: Initializer = Initializer::Normal {
    mean: 0.0,
    std: 0.02,
};

pub(crate) fn batch_norm(channels: usize, device: &Device) -> BatchNorm {
    let mut norm = BatchNormConfig::new(channels).init(device);
    norm.gamma = Param::initialized(
        ParamId::new(),
        Tensor::random([channels], Distribution::Normal(1.0, 0.02), device),
    );
    norm
}
