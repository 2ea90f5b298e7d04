use burn::tensor::Tensor;

/// Mean binary cross-entropy between `sigmoid(logits)` and `targets`, computed from logits as
/// `max(l, 0) - l * y + ln(1 + e^-|l|)` so it never overflows. Targets may lie outside [0, 1]
/// (range smoothing up to 1.2); the formula is linear in them and stays well defined.
pub fn bce_with_logits(logits: Tensor<1>, targets: Tensor<1>) -> Tensor<1> {
    let positive_part = logits.clone().clamp_min(0.0);
    let soft_part = logits.clone().abs().neg().exp().add_scalar(1.0).log();
    (positive_part - logits * targets + soft_part).mean()
}
