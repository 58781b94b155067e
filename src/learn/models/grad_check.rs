//! Test helper: a hand-written op (a custom op, a fused layer) against the same function
//! written with candle's tensor ops, forward and through candle's autograd.

use super::model_dir::max_abs_diff;
use candle_core::Tensor;

/// Asserts that `ours` and `theirs` (the same function of `vars`, computed two ways) agree
/// within `forward_tol`, and that the gradients of a loss weighting every output element
/// differently (`sum(w * out)`, `w` random) agree for each named variable within
/// `gradient_tol` times the larger of 1 and the reference gradient's largest magnitude. A
/// variable whose reference gradient is all zero fails: it would prove nothing.
pub(crate) fn assert_matches_with_gradients(
    ours: &Tensor,
    theirs: &Tensor,
    vars: &[(&str, &Tensor)],
    forward_tol: f32,
    gradient_tol: f32,
) {
    let forward = max_abs_diff(ours, theirs).unwrap();
    assert!(forward < forward_tol, "forward: {forward}");
    let w = Tensor::randn(0f32, 1.0, ours.shape(), ours.device()).unwrap();
    let loss_gradients = |out: &Tensor| out.mul(&w).unwrap().sum_all().unwrap().backward().unwrap();
    let (g_ours, g_theirs) = (loss_gradients(ours), loss_gradients(theirs));
    for (name, var) in vars {
        let reference = g_theirs.get(var).unwrap();
        let d = max_abs_diff(g_ours.get(var).unwrap(), reference).unwrap();
        let scale = reference
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap();
        let scale = scale.to_scalar::<f32>().unwrap();
        assert!(scale > 0.0, "{name}: zero gradient");
        assert!(
            d < gradient_tol * scale.max(1.0),
            "{name}: {d} (scale {scale})"
        );
    }
}
