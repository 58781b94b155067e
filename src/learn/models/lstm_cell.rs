//! The LSTM cell's elementwise arithmetic for training, on raw `f32` rows: gate
//! nonlinearities, the state update, and its derivative.
//!
//! libm's `tanhf`/`expf` are scalar calls, so a loop over them cannot vectorise; they were a
//! sixth of a training step. Here `exp` is a polynomial (see [`fast_exp`]) and `tanh` is built
//! from it with a short odd series near zero (where `(1 - e^-2x) / (1 + e^-2x)` would lose
//! relative precision to cancellation), both written without calls or branches so the row
//! loops vectorise; the AVX2+FMA build is chosen at run time where the CPU has it. Relative
//! error stays below about 1e-6 (tests below).
//!
//! Row layout is PyTorch's gate order: a row of `4H` pre-activations holds the input (i),
//! forget (f), cell (g) and output (o) blocks of `H`.

/// `e^x` for `f32` (relative error < 2e-7 for `|x| < 87`): `x = n ln2 + r`, `e^r` by a
/// degree-6 polynomial, `2^n` by building the exponent bits.
#[inline(always)]
pub(crate) fn fast_exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E).round();
    let r = n.mul_add(-0.693_145_75, x);
    let r = n.mul_add(-1.428_606_8e-6, r);
    let p = r.mul_add(1.0 / 720.0, 1.0 / 120.0);
    let p = p.mul_add(r, 1.0 / 24.0);
    let p = p.mul_add(r, 1.0 / 6.0);
    let p = p.mul_add(r, 0.5);
    let p = p.mul_add(r, 1.0);
    let p = p.mul_add(r, 1.0);
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// The logistic function `1 / (1 + e^-x)`.
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + fast_exp(-x))
}

/// `tanh x`: the Taylor series to `x^13` for `|x| < 0.3`, else `(1 - e^-2|x|) / (1 + e^-2|x|)`
/// with the sign of `x`.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    let ax = x.abs();
    let e = fast_exp(-2.0 * ax);
    let far = ((1.0 - e) / (1.0 + e)).copysign(x);
    let x2 = x * x;
    let p = x2.mul_add(21844.0 / 6_081_075.0, -1382.0 / 155_925.0);
    let p = p.mul_add(x2, 62.0 / 2835.0);
    let p = p.mul_add(x2, -17.0 / 315.0);
    let p = p.mul_add(x2, 2.0 / 15.0);
    let p = p.mul_add(x2, -1.0 / 3.0);
    let near = (p * x2).mul_add(x, x);
    if ax < 0.3 {
        near
    } else {
        far
    }
}

/// Whether the AVX2+FMA builds of the row kernels can run here.
pub(crate) fn simd_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines `$name(simd, args..)`: the kernel `$generic(args..)`, run as `$avx2` (the same
/// code compiled with AVX2 and FMA enabled) where `simd` asks for it and [`simd_available`].
macro_rules! simd_dispatch {
    ($(#[$doc:meta])* fn $name:ident = $generic:ident | $avx2:ident
        ($($arg:ident: $ty:ty),*) $(-> $ret:ty)?) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $avx2($($arg: $ty),*) $(-> $ret)? {
            $generic($($arg),*)
        }

        $(#[$doc])*
        #[inline]
        pub(crate) fn $name(simd: bool, $($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            if simd && simd_available() {
                // SAFETY: the CPU reports AVX2 and FMA.
                return unsafe { $avx2($($arg),*) };
            }
            let _ = simd;
            $generic($($arg),*)
        }
    };
}

/// Forward of one row: `act` holds the `4H` pre-activations and receives the activations
/// `(i, f, g, o)`; `c = f c_prev + i g`, `h = o tanh(c)`; `tc` keeps `tanh(c)` for the backward.
#[inline(always)]
fn forward_row_generic(
    act: &mut [f32],
    c_prev: &[f32],
    h: &mut [f32],
    c: &mut [f32],
    tc: &mut [f32],
) {
    let n = h.len();
    assert!(act.len() == 4 * n && c_prev.len() == n && c.len() == n && tc.len() == n);
    let (ai, rest) = act.split_at_mut(n);
    let (af, rest) = rest.split_at_mut(n);
    let (ag, ao) = rest.split_at_mut(n);
    for j in 0..n {
        let i = sigmoid(ai[j]);
        let f = sigmoid(af[j]);
        let g = tanh(ag[j]);
        let o = sigmoid(ao[j]);
        let cc = f * c_prev[j] + i * g;
        let t = tanh(cc);
        ai[j] = i;
        af[j] = f;
        ag[j] = g;
        ao[j] = o;
        c[j] = cc;
        tc[j] = t;
        h[j] = o * t;
    }
}

/// Backward of one row. `dh` is the gradient reaching `h`; `dc` holds on entry the gradient
/// reaching `c` from outside the cell (the next step and any direct use of `c`) and on return
/// the gradient passed to `c_prev`; `d` receives the gradient of the `4H` pre-activations.
#[inline(always)]
fn backward_row_generic(
    act: &[f32],
    tc: &[f32],
    c_prev: &[f32],
    dh: &[f32],
    dc: &mut [f32],
    d: &mut [f32],
) {
    let n = dh.len();
    assert!(act.len() == 4 * n && d.len() == 4 * n);
    assert!(tc.len() == n && c_prev.len() == n && dc.len() == n);
    let (ai, rest) = act.split_at(n);
    let (af, rest) = rest.split_at(n);
    let (ag, ao) = rest.split_at(n);
    let (di, rest) = d.split_at_mut(n);
    let (df, rest) = rest.split_at_mut(n);
    let (dg, dout) = rest.split_at_mut(n);
    for j in 0..n {
        let (i, f, g, o, t) = (ai[j], af[j], ag[j], ao[j], tc[j]);
        let dcj = dc[j] + dh[j] * o * (1.0 - t * t);
        di[j] = dcj * g * i * (1.0 - i);
        df[j] = dcj * c_prev[j] * f * (1.0 - f);
        dg[j] = dcj * i * (1.0 - g * g);
        dout[j] = dh[j] * t * o * (1.0 - o);
        dc[j] = dcj * f;
    }
}

simd_dispatch! {
    /// [`forward_row_generic`], vectorised where `simd` (from [`simd_available`]) says so.
    fn forward_row = forward_row_generic | forward_row_avx2
        (act: &mut [f32], c_prev: &[f32], h: &mut [f32], c: &mut [f32], tc: &mut [f32])
}

simd_dispatch! {
    /// [`backward_row_generic`], vectorised where `simd` (from [`simd_available`]) says so.
    fn backward_row = backward_row_generic | backward_row_avx2
        (act: &[f32], tc: &[f32], c_prev: &[f32], dh: &[f32], dc: &mut [f32], d: &mut [f32])
}

/// Replaces each `x` of a row by `e^(x - shift)` and returns their sum (the softmax's
/// denominator when `shift` is the row's maximum).
#[inline(always)]
fn exp_shifted_generic(x: &mut [f32], shift: f32) -> f32 {
    let mut sum = 0f32;
    for v in x.iter_mut() {
        *v = fast_exp(*v - shift);
        sum += *v;
    }
    sum
}

simd_dispatch! {
    /// [`exp_shifted_generic`], vectorised where `simd` (from [`simd_available`]) says so.
    fn exp_shifted = exp_shifted_generic | exp_shifted_avx2 (x: &mut [f32], shift: f32) -> f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f32, b: f32) -> f32 {
        ((a - b) / b.abs().max(1e-30)).abs()
    }

    #[test]
    fn activations_are_accurate() {
        let mut x = -40f32;
        while x < 40.0 {
            assert!(rel(fast_exp(x), x.exp()) < 1e-6, "exp {x}");
            let s = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!(rel(sigmoid(x), s as f32) < 1e-6, "sigmoid {x}");
            assert!(rel(tanh(x), (x as f64).tanh() as f32) < 1e-6, "tanh {x}");
            x += 0.00731;
        }
        for x in [
            1e-30f32, -1e-20, 1e-6, -3e-4, 0.299_999, 0.3, -0.300_001, 9.0, 20.0,
        ] {
            assert!(rel(tanh(x), (x as f64).tanh() as f32) < 1e-6, "tanh {x}");
        }
        assert_eq!(tanh(0.0), 0.0);
        assert_eq!(tanh(100.0), 1.0);
        assert_eq!(tanh(-100.0), -1.0);
        assert!(sigmoid(-100.0) < 1e-30 && sigmoid(100.0) == 1.0);
    }

    #[test]
    fn exp_shifted_matches_libm() {
        for simd in [false, true] {
            let x0: Vec<f32> = (0..29).map(|k| k as f32 * 0.37 - 5.0).collect();
            let mut x = x0.clone();
            let sum = exp_shifted(simd, &mut x, 2.0);
            let want: f64 = x0.iter().map(|v| ((v - 2.0) as f64).exp()).sum();
            assert!(((sum as f64 - want) / want).abs() < 1e-6);
            for (a, b) in x.iter().zip(&x0) {
                assert!(rel(*a, (b - 2.0).exp()) < 1e-6);
            }
        }
    }

    /// Both builds of the row kernels match the textbook formulas in `f64`.
    #[test]
    fn row_kernels_match_reference() {
        let n = 37; // not a multiple of the vector width
        let val = |k: usize, s: f32| ((k as f32 * 0.618_034).fract() - 0.5) * s;
        let pre: Vec<f32> = (0..4 * n).map(|k| val(k, 9.0)).collect();
        let cp: Vec<f32> = (0..n).map(|k| val(k + 3, 4.0)).collect();
        let dh: Vec<f32> = (0..n).map(|k| val(k + 7, 2.0)).collect();
        let dc0: Vec<f32> = (0..n).map(|k| val(k + 11, 2.0)).collect();
        let sg = |x: f32| 1.0 / (1.0 + (-(x as f64)).exp());
        for simd in [false, true] {
            let mut act = pre.clone();
            let (mut h, mut c, mut tc) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            forward_row(simd, &mut act, &cp, &mut h, &mut c, &mut tc);
            let mut d = vec![0.0; 4 * n];
            let mut dc = dc0.clone();
            backward_row(simd, &act, &tc, &cp, &dh, &mut dc, &mut d);
            for j in 0..n {
                let (i, f) = (sg(pre[j]), sg(pre[n + j]));
                let (g, o) = ((pre[2 * n + j] as f64).tanh(), sg(pre[3 * n + j]));
                let cc = f * cp[j] as f64 + i * g;
                let t = cc.tanh();
                let close = |a: f32, b: f64, what: &str| {
                    assert!((a as f64 - b).abs() < 2e-6 * b.abs().max(1.0), "{what} {j}")
                };
                close(act[j], i, "i");
                close(act[3 * n + j], o, "o");
                close(c[j], cc, "c");
                close(h[j], o * t, "h");
                let dcj = dc0[j] as f64 + dh[j] as f64 * o * (1.0 - t * t);
                close(d[j], dcj * g * i * (1.0 - i), "di");
                close(d[n + j], dcj * cp[j] as f64 * f * (1.0 - f), "df");
                close(d[2 * n + j], dcj * i * (1.0 - g * g), "dg");
                close(d[3 * n + j], dh[j] as f64 * t * o * (1.0 - o), "do");
                close(dc[j], dcj * f, "dc");
            }
        }
    }
}
