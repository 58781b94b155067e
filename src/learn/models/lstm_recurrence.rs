//! The LSTM recurrence over a window and its backward (BPTT) on raw `f32` buffers, shared by
//! the fused candle op ([`super::fused_lstm`]) and the hand-written training step
//! ([`super::lstm_grad`]).
//!
//! Rows are `(batch, step)` pairs in row-major order, `row = b * T + t`, as in a candle
//! `(B, T, X)` tensor. Per step the forward adds `h_{t-1} W_hh^T` to the step's rows of the
//! input projection in place (one strided GEMM, no copies) and runs the cell on each row; the
//! backward adds `dgates_{t+1} W_hh` to the step's rows of `dh` the same way. A batch's rows
//! are contiguous, so with `threads > 1` the batch is split into contiguous blocks that run
//! on their own threads; the window-wide GEMMs are split by rows over the threads.

use super::lstm_cell::{backward_row, forward_row, simd_available};
use gemm::Parallelism;

/// A strided row-major view: `(data, row stride, column stride)`.
pub(crate) type View<'a> = (&'a [f32], usize, usize);

/// `dst = (read_dst ? dst : 0) + lhs * rhs` on strided row-major views, `(m, n, k)` the
/// sizes. With `threads > 1` a large product is split by rows of `dst` over scoped threads
/// (gemm's own Rayon mode spin-waits, which cost more than it gained on a busy machine).
pub(crate) fn matmul(
    (m, n, k): (usize, usize, usize),
    dst: &mut [f32],
    dst_rs: usize,
    read_dst: bool,
    lhs: View,
    rhs: View,
    threads: usize,
) {
    let blocks = if m * n * k >= 1 << 20 {
        threads.min(m / 16).max(1)
    } else {
        1
    };
    if blocks == 1 {
        return matmul_serial((m, n, k), dst, dst_rs, read_dst, lhs, rhs);
    }
    let mut parts = Vec::with_capacity(blocks);
    let mut rest = dst;
    let mut start = 0;
    for i in 0..blocks {
        let end = m * (i + 1) / blocks;
        let take = if i + 1 == blocks {
            rest.len()
        } else {
            (end - start) * dst_rs
        };
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(take);
        parts.push((head, start, end - start));
        rest = tail;
        start = end;
    }
    for_blocks(parts, |d, first, rows| {
        let lhs = (&lhs.0[first * lhs.1..], lhs.1, lhs.2);
        matmul_serial((rows, n, k), d, dst_rs, read_dst, lhs, rhs)
    });
}

fn matmul_serial(
    (m, n, k): (usize, usize, usize),
    dst: &mut [f32],
    dst_rs: usize,
    read_dst: bool,
    (lhs, lhs_rs, lhs_cs): View,
    (rhs, rhs_rs, rhs_cs): View,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !read_dst {
            for r in 0..m {
                dst[r * dst_rs..r * dst_rs + n].fill(0.0);
            }
        }
        return;
    }
    // Bounds of the strided views, checked once so the unsafe call below stays in bounds.
    assert!((m - 1) * dst_rs + n <= dst.len());
    assert!((m - 1) * lhs_rs + (k - 1) * lhs_cs < lhs.len());
    assert!((k - 1) * rhs_rs + (n - 1) * rhs_cs < rhs.len());
    // SAFETY: the asserts above keep every element the strides address inside its slice.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            read_dst,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        )
    }
}

/// What the forward keeps for the backward, and its outputs. Each buffer has one row per
/// `(batch, step)`.
pub(crate) struct RecurrenceCache {
    pub batch: usize,
    pub steps: usize,
    pub hidden: usize,
    /// Gate activations `(i, f, g, o)`, `4H` per row.
    pub act: Vec<f32>,
    /// Hidden state `h`, `H` per row.
    pub h: Vec<f32>,
    /// Cell state `c`, `H` per row.
    pub c: Vec<f32>,
    /// `tanh(c)`, `H` per row.
    pub tc: Vec<f32>,
}

/// Splits `0..batch` into at most `threads` contiguous blocks of whole sequences.
fn blocks(batch: usize, threads: usize) -> Vec<(usize, usize)> {
    let n = threads.clamp(1, batch.max(1));
    (0..n)
        .map(|i| (batch * i / n, batch * (i + 1) / n))
        .filter(|(a, b)| b > a)
        .collect()
}

/// Runs `f(block, first sequence, sequence count)` on each block, on its own thread when there
/// is more than one.
fn for_blocks<T: Send>(parts: Vec<(T, usize, usize)>, f: impl Fn(T, usize, usize) + Sync) {
    if parts.len() == 1 {
        for (p, a, n) in parts {
            f(p, a, n);
        }
        return;
    }
    std::thread::scope(|s| {
        for (p, a, n) in parts {
            let f = &f;
            s.spawn(move || f(p, a, n));
        }
    });
}

/// Runs the recurrence. `gx` is the input projection plus bias, `4H` per row (it becomes the
/// cache's activations), `w_hh` is `(4H, H)` row-major, `state0` is `[h0, c0]` per sequence
/// (`2H` each; `None` = zeros).
pub(crate) fn forward(
    (batch, steps, hidden): (usize, usize, usize),
    gx: Vec<f32>,
    w_hh: &[f32],
    state0: Option<&[f32]>,
    threads: usize,
) -> RecurrenceCache {
    let (t, h) = (steps, hidden);
    assert_eq!(gx.len(), batch * t * 4 * h);
    assert_eq!(w_hh.len(), 4 * h * h);
    assert!(state0.is_none_or(|s| s.len() == batch * 2 * h));
    let mut act = gx;
    let mut hs = vec![0f32; batch * t * h];
    let mut c = vec![0f32; batch * t * h];
    let mut tc = vec![0f32; batch * t * h];
    let simd = simd_available();
    let zeros = vec![0f32; 2 * h];
    // W_hh^T as a row-major (H, 4H) copy: with unit column stride the per-step GEMMs use it
    // in place instead of repacking all of W_hh at every step.
    let mut w_t = vec![0f32; 4 * h * h];
    for (j, row) in w_hh.chunks_exact(h).enumerate() {
        for (k, x) in row.iter().enumerate() {
            w_t[k * 4 * h + j] = *x;
        }
    }
    let w_t = (&w_t[..], 4 * h, 1);
    let mut parts = Vec::new();
    let bl = blocks(batch, threads);
    let mut rest = (&mut act[..], &mut hs[..], &mut c[..], &mut tc[..]);
    for &(a, e) in &bl {
        let n = e - a;
        let (x0, x1) = std::mem::take(&mut rest.0).split_at_mut(n * t * 4 * h);
        let (y0, y1) = std::mem::take(&mut rest.1).split_at_mut(n * t * h);
        let (z0, z1) = std::mem::take(&mut rest.2).split_at_mut(n * t * h);
        let (w0, w1) = std::mem::take(&mut rest.3).split_at_mut(n * t * h);
        parts.push(((x0, y0, z0, w0), a, n));
        rest = (x1, y1, z1, w1);
    }
    for_blocks(parts, |(act, hs, c, tc), first, n| {
        for step in 0..t {
            let g4 = 4 * h;
            if step > 0 {
                let prev = (&hs[(step - 1) * h..], t * h, 1);
                matmul(
                    (n, g4, h),
                    &mut act[step * g4..],
                    t * g4,
                    true,
                    prev,
                    w_t,
                    1,
                );
            } else if let Some(s0) = state0 {
                let prev = (&s0[first * 2 * h..], 2 * h, 1);
                matmul((n, g4, h), act, t * g4, true, prev, w_t, 1);
            }
            for bi in 0..n {
                let row = bi * t + step;
                let (c_before, c_rest) = c.split_at_mut(row * h);
                let c_prev = if step > 0 {
                    &c_before[(row - 1) * h..]
                } else {
                    match state0 {
                        Some(s0) => &s0[(first + bi) * 2 * h + h..(first + bi + 1) * 2 * h],
                        None => &zeros[..h],
                    }
                };
                forward_row(
                    simd,
                    &mut act[row * g4..(row + 1) * g4],
                    &c_prev[..h],
                    &mut hs[row * h..(row + 1) * h],
                    &mut c_rest[..h],
                    &mut tc[row * h..(row + 1) * h],
                );
            }
        }
    });
    RecurrenceCache {
        batch,
        steps,
        hidden,
        act,
        h: hs,
        c,
        tc,
    }
}

/// Gradients of the recurrence: of the pre-activations (`4H` per row), of `W_hh` and of
/// `state0` (`[dh0, dc0]`, `2H` per sequence).
pub(crate) struct RecurrenceGrads {
    pub gates: Vec<f32>,
    pub w_hh: Vec<f32>,
    pub state0: Vec<f32>,
}

/// Backward of [`forward`]. `dh` is the gradient reaching each row's `h` (it is overwritten:
/// the recurrent part is added in place); `dc` the gradient reaching each row's `c` directly,
/// if any.
pub(crate) fn backward(
    cache: &RecurrenceCache,
    w_hh: &[f32],
    state0: Option<&[f32]>,
    dh: &mut [f32],
    dc: Option<&[f32]>,
    threads: usize,
) -> RecurrenceGrads {
    let (batch, t, h) = (cache.batch, cache.steps, cache.hidden);
    let g4 = 4 * h;
    assert_eq!(dh.len(), batch * t * h);
    assert!(dc.is_none_or(|d| d.len() == batch * t * h));
    assert!(state0.is_none_or(|s| s.len() == batch * 2 * h));
    let mut dg = vec![0f32; batch * t * g4];
    let mut ds0 = vec![0f32; batch * 2 * h];
    let simd = simd_available();
    let zeros = vec![0f32; h];
    let mut parts = Vec::new();
    let mut rest = (&mut dg[..], &mut ds0[..], dh);
    for &(a, e) in &blocks(batch, threads) {
        let n = e - a;
        let (x0, x1) = std::mem::take(&mut rest.0).split_at_mut(n * t * g4);
        let (y0, y1) = std::mem::take(&mut rest.1).split_at_mut(n * 2 * h);
        let (z0, z1) = std::mem::take(&mut rest.2).split_at_mut(n * t * h);
        parts.push(((x0, y0, z0), a, n));
        rest = (x1, y1, z1);
    }
    for_blocks(parts, |(dg, ds0, dh), first, n| {
        let mut dc_next = vec![0f32; n * h];
        for step in (0..t).rev() {
            if step + 1 < t {
                let next = (&dg[(step + 1) * g4..], t * g4, 1);
                matmul(
                    (n, h, g4),
                    &mut dh[step * h..],
                    t * h,
                    true,
                    next,
                    (w_hh, h, 1),
                    1,
                );
            }
            for bi in 0..n {
                let row = (first + bi) * t + step;
                let local = bi * t + step;
                let dcb = &mut dc_next[bi * h..(bi + 1) * h];
                if let Some(dc) = dc {
                    for (x, y) in dcb.iter_mut().zip(&dc[row * h..(row + 1) * h]) {
                        *x += y;
                    }
                }
                let c_prev = if step > 0 {
                    &cache.c[(row - 1) * h..row * h]
                } else {
                    match state0 {
                        Some(s0) => &s0[(first + bi) * 2 * h + h..(first + bi + 1) * 2 * h],
                        None => &zeros[..],
                    }
                };
                backward_row(
                    simd,
                    &cache.act[row * g4..(row + 1) * g4],
                    &cache.tc[row * h..(row + 1) * h],
                    c_prev,
                    &dh[local * h..(local + 1) * h],
                    dcb,
                    &mut dg[local * g4..(local + 1) * g4],
                );
            }
        }
        // [dh0, dc0]: dh0 = dgates_0 W_hh, dc0 what the first cell passed back.
        matmul(
            (n, h, g4),
            ds0,
            2 * h,
            false,
            (dg, t * g4, 1),
            (w_hh, h, 1),
            1,
        );
        for bi in 0..n {
            ds0[bi * 2 * h + h..(bi + 1) * 2 * h].copy_from_slice(&dc_next[bi * h..(bi + 1) * h]);
        }
    });
    // dW_hh = sum over rows of dgates^T h_{t-1}: one GEMM over the window.
    let mut hprev = vec![0f32; batch * t * h];
    for bi in (0..batch).filter(|_| t > 0) {
        let base = bi * t * h;
        if let Some(s0) = state0 {
            hprev[base..base + h].copy_from_slice(&s0[bi * 2 * h..bi * 2 * h + h]);
        }
        hprev[base + h..base + t * h].copy_from_slice(&cache.h[base..base + (t - 1) * h]);
    }
    let mut dw = vec![0f32; g4 * h];
    matmul(
        (g4, h, batch * t),
        &mut dw,
        h,
        false,
        (&dg, 1, g4),
        (&hprev, h, 1),
        threads,
    );
    RecurrenceGrads {
        gates: dg,
        w_hh: dw,
        state0: ds0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The row-split product matches a plain triple loop, on transposed (strided) views and
    /// accumulating into `dst`, for any thread count.
    #[test]
    fn matmul_split_matches_reference() {
        let (m, n, k) = (101, 130, 97); // over the split threshold, odd sizes
        let val = |i: usize| ((i as f32 * 0.618_034).fract() - 0.5) * 2.0;
        let lhs_t: Vec<f32> = (0..k * m).map(val).collect(); // (k, m): lhs = lhs_t^T
        let rhs: Vec<f32> = (0..k * n).map(|i| val(i + 7)).collect();
        let dst_rs = n + 3;
        let init: Vec<f32> = (0..m * dst_rs).map(|i| val(i + 11)).collect();
        for threads in [1, 2, 3] {
            let mut dst = init.clone();
            matmul(
                (m, n, k),
                &mut dst,
                dst_rs,
                true,
                (&lhs_t, 1, m),
                (&rhs, n, 1),
                threads,
            );
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = init[i * dst_rs + j] as f64
                        + (0..k)
                            .map(|p| lhs_t[p * m + i] as f64 * rhs[p * n + j] as f64)
                            .sum::<f64>();
                    let got = dst[i * dst_rs + j] as f64;
                    assert!((got - want).abs() < 1e-4, "{threads} threads, ({i}, {j})");
                }
                // Padding between rows is left alone.
                assert_eq!(
                    dst[i * dst_rs + n..i * dst_rs + dst_rs],
                    init[i * dst_rs + n..i * dst_rs + dst_rs]
                );
            }
        }
    }

    /// Splitting the batch over threads changes nothing: each sequence's recurrence is
    /// independent, so the results match the single-block run.
    #[test]
    fn batch_blocks_give_the_same_result() {
        let (b, t, h) = (5, 4, 3);
        let val = |k: usize, s: f32| ((k as f32 * 0.618_034).fract() - 0.5) * s;
        let gx: Vec<f32> = (0..b * t * 4 * h).map(|k| val(k, 3.0)).collect();
        let w: Vec<f32> = (0..4 * h * h).map(|k| val(k + 5, 1.0)).collect();
        let s0: Vec<f32> = (0..b * 2 * h).map(|k| val(k + 9, 1.0)).collect();
        let dh0: Vec<f32> = (0..b * t * h).map(|k| val(k + 13, 1.0)).collect();
        let dc: Vec<f32> = (0..b * t * h).map(|k| val(k + 17, 1.0)).collect();
        let run = |threads| {
            let cache = forward((b, t, h), gx.clone(), &w, Some(&s0), threads);
            let mut dh = dh0.clone();
            let g = backward(&cache, &w, Some(&s0), &mut dh, Some(&dc), threads);
            (cache.h, cache.c, g.gates, g.w_hh, g.state0)
        };
        let one = run(1);
        assert!(one.3.iter().any(|x| *x != 0.0));
        let close = |a: &[f32], b: &[f32]| {
            assert_eq!(a.len(), b.len());
            let d = a.iter().zip(b).map(|(x, y)| (x - y).abs());
            assert!(d.fold(0f32, f32::max) < 1e-5);
        };
        for threads in [2, 3, 8] {
            // The GEMMs of a smaller block may sum in another order: equal up to rounding.
            let more = run(threads);
            close(&one.0, &more.0);
            close(&one.1, &more.1);
            close(&one.2, &more.2);
            close(&one.3, &more.3);
            close(&one.4, &more.4);
        }
        assert_eq!(blocks(5, 2), vec![(0, 2), (2, 5)]);
        assert_eq!(blocks(1, 4), vec![(0, 1)]);
    }
}
