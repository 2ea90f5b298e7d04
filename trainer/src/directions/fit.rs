//! Fitting directions to measured faces: ridge regression from latent to each attribute
//! (InterFaceGAN's linear model), turned into conditional directions that move one attribute
//! and hold the others; and GANSpace's principal directions of the first layer.
//! nalgebra does the linear algebra (solves, QR, a small symmetric eigenproblem).

use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// Ridge strength of the latent-to-attribute fits: tiny beside 10,000 samples, there only to
/// keep the solve well conditioned.
const RIDGE: f64 = 1.0;

/// A linear model `attribute = weights . (z - z_mean) + attribute_mean` for each column of
/// the attribute matrix.
pub struct LinearModel {
    /// `[attributes, latent]`
    pub weights: DMatrix<f64>,
    z_mean: DVector<f64>,
    attribute_mean: DVector<f64>,
}

impl LinearModel {
    /// `z` is `[n, latent]`, `attributes` `[n, k]`.
    pub fn fit(z: &DMatrix<f64>, attributes: &DMatrix<f64>) -> Self {
        let z_mean = column_means(z);
        let attribute_mean = column_means(attributes);
        let zc = centred(z, &z_mean);
        let ac = centred(attributes, &attribute_mean);
        let latent = z.ncols();
        let gram = zc.transpose() * &zc + DMatrix::identity(latent, latent) * RIDGE;
        let weights = gram
            .cholesky()
            .expect("Z'Z + ridge is positive definite")
            .solve(&(zc.transpose() * ac))
            .transpose();
        Self {
            weights,
            z_mean,
            attribute_mean,
        }
    }

    /// `[n, latent]` -> `[n, k]`
    pub fn predict(&self, z: &DMatrix<f64>) -> DMatrix<f64> {
        let mut predicted = centred(z, &self.z_mean) * self.weights.transpose();
        for mut row in predicted.row_iter_mut() {
            row += self.attribute_mean.transpose();
        }
        predicted
    }

    /// Share of each attribute's variance the model explains on `(z, attributes)`.
    pub fn r2(&self, z: &DMatrix<f64>, attributes: &DMatrix<f64>) -> Vec<f64> {
        let predicted = self.predict(z);
        let means = column_means(attributes);
        (0..attributes.ncols())
            .map(|k| {
                let residual: f64 = (attributes.column(k) - predicted.column(k)).norm_squared();
                let total: f64 = attributes.column(k).add_scalar(-means[k]).norm_squared();
                if total > 0.0 {
                    1.0 - residual / total
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// Conditional directions: for each attribute k the smallest latent move that changes k
    /// by one unit and, by the model, none of the others (`W^T (W W^T)^-1 e_k`). Returns
    /// `(unit direction, gain)` with gain the change of k per unit move along it.
    pub fn conditional_directions(&self) -> Vec<(Vec<f64>, f64)> {
        let w = &self.weights;
        let inverse = (w * w.transpose())
            .try_inverse()
            .expect("the attributes' fits are linearly independent");
        let moves = w.transpose() * inverse;
        moves
            .column_iter()
            .map(|column| {
                let length = column.norm();
                ((column / length).iter().copied().collect(), 1.0 / length)
            })
            .collect()
    }
}

/// GANSpace: the top `count` principal components of `activations` (`[n, features]`), as
/// latent directions found by regressing each component's scores on `z` (`[n, latent]`),
/// each returned with its share of the activations' variance.
pub fn principal_directions(
    z: &DMatrix<f64>,
    activations: &DMatrix<f64>,
    count: usize,
) -> Vec<(Vec<f64>, f64)> {
    let centred_activations = centred(activations, &column_means(activations));
    let components = top_components(&centred_activations, count);
    let scores = &centred_activations * &components.0;
    let model = LinearModel::fit(z, &scores);
    let total_variance = centred_activations.norm_squared();
    (0..count)
        .map(|i| {
            let direction = model.weights.row(i).transpose();
            let unit = &direction / direction.norm();
            let share = components.1[i] / total_variance;
            (unit.iter().copied().collect(), share)
        })
        .collect()
}

/// Top right singular vectors of `x` (`[n, d]`) by randomised subspace iteration (Halko et
/// al. 2011): the full `d x d` covariance would be 4096^2 for a DCGAN's first layer.
/// Returns `([d, count] components, their sums of squares)`.
fn top_components(x: &DMatrix<f64>, count: usize) -> (DMatrix<f64>, Vec<f64>) {
    let width = (count + 10).min(x.ncols());
    // A fixed, spread-out start (no random crate needed): deterministic output.
    let mut basis = DMatrix::from_fn(x.ncols(), width, |i, j| {
        (((i * 7 + j * 13) % 17) as f64 - 8.0) + if i % width == j { 5.0 } else { 0.0 }
    });
    for _ in 0..8 {
        let image = x * &basis;
        basis = (x.transpose() * image).qr().q();
    }
    // Rayleigh-Ritz on the converged subspace.
    let projected = x * &basis;
    let small = projected.transpose() * &projected;
    let eigen = SymmetricEigen::new(small);
    let mut order: Vec<usize> = (0..width).collect();
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
    let rotation = DMatrix::from_fn(width, count, |i, j| eigen.eigenvectors[(i, order[j])]);
    let values = order[..count]
        .iter()
        .map(|&i| eigen.eigenvalues[i])
        .collect();
    (basis * rotation, values)
}

fn column_means(m: &DMatrix<f64>) -> DVector<f64> {
    DVector::from_iterator(m.ncols(), m.column_iter().map(|c| c.mean()))
}

fn centred(m: &DMatrix<f64>, means: &DVector<f64>) -> DMatrix<f64> {
    let mut out = m.clone();
    for mut row in out.row_iter_mut() {
        row -= means.transpose();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use facegan_model::SplitMix64;

    fn gaussian(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
        let mut rng = SplitMix64::new(seed);
        DMatrix::from_fn(rows, cols, |_, _| f64::from(rng.normal()))
    }

    #[test]
    fn recovers_linear_attributes_and_makes_them_independent() {
        let (n, latent) = (4000, 12);
        let z = gaussian(n, latent, 1);
        // Two correlated attributes of the latent, plus noise.
        let noise = gaussian(n, 2, 2) * 0.1;
        let attributes = DMatrix::from_fn(n, 2, |i, k| {
            let a = 3.0 * z[(i, 0)] + z[(i, 1)];
            let b = 2.0 * z[(i, 0)] - z[(i, 2)];
            [a, b][k] + 10.0 + noise[(i, k)]
        });
        let model = LinearModel::fit(&z, &attributes);
        assert!((model.weights[(0, 0)] - 3.0).abs() < 0.02);
        assert!(model.r2(&z, &attributes).iter().all(|&r2| r2 > 0.99));
        for (k, (direction, gain)) in model.conditional_directions().iter().enumerate() {
            let direction = DVector::from_column_slice(direction);
            assert!((direction.norm() - 1.0).abs() < 1e-9);
            // Moving along k's direction changes k by `gain` per unit and the other not at all.
            let change = &model.weights * &direction;
            assert!((change[k] - gain).abs() < 1e-9);
            assert!(change[1 - k].abs() < 1e-9);
        }
    }

    #[test]
    fn finds_the_dominant_axis_of_the_activations() {
        let (n, latent) = (3000, 8);
        let z = gaussian(n, latent, 3);
        // Activations: latent axis 2 spread over many features with a large scale, the rest small.
        let activations = DMatrix::from_fn(n, 40, |i, f| {
            10.0 * z[(i, 2)] * ((f % 5) as f64 - 2.0) + 0.5 * z[(i, f % latent)]
        });
        let directions = principal_directions(&z, &activations, 2);
        let first = &directions[0].0;
        assert!(first[2].abs() > 0.99, "{first:?}");
        assert!(directions[0].1 > directions[1].1);
    }
}
