//! LeakyReLU (ReLU at slope 0) both ways, for the flex ops in `flex.rs`: one parallel pass
//! each, where flex runs the forward on one thread and Burn's autodiff composes the backward
//! from three tensor ops.

/// LeakyReLU of one value: `x` where `x >= 0` (flex's condition), `slope * x` elsewhere.
#[inline]
pub fn leaky_relu(x: f32, slope: f32) -> f32 {
    x * factor(x, slope)
}

/// LeakyReLU's gradient at input `x` for output gradient `grad`.
#[inline]
pub fn leaky_relu_grad(grad: f32, x: f32, slope: f32) -> f32 {
    grad * factor(x, slope)
}

/// The slope of LeakyReLU at `x`; a select, not a branch, so the loops vectorise.
#[inline]
fn factor(x: f32, slope: f32) -> f32 {
    if x >= 0.0 { 1.0 } else { slope }
}
