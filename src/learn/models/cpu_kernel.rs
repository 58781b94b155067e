//! candle custom ops whose CPU forward is a kernel over contiguous `f32` slices. candle asks
//! each op for the same storage-and-layout signature per arity; here it is written once, with
//! the unpacking of the storages, and a kernel says only what it computes.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};

/// An op of `N` tensors computed on the CPU from their contiguous `f32` elements.
pub(crate) trait F32Kernel<const N: usize>: Send + Sync + 'static {
    /// The op's name, in candle's errors.
    const NAME: &'static str;

    /// The output's elements and shape from the inputs' elements and layouts.
    fn forward(&self, inputs: [&[f32]; N], layouts: [&Layout; N]) -> Result<(Vec<f32>, Shape)>;

    /// The gradients of the inputs (`None` for one that gets none) from the output `res` and
    /// its gradient `grad_res`. Without it the op is not differentiable.
    fn backward(
        &self,
        _inputs: [&Tensor; N],
        _res: &Tensor,
        _grad_res: &Tensor,
    ) -> Result<[Option<Tensor>; N]> {
        Err(candle_core::Error::BackwardNotSupported { op: Self::NAME })
    }
}

/// A kernel as a candle custom op: `x.apply_op1(OnCpu(kernel))`.
pub(crate) struct OnCpu<K>(pub K);

/// The elements of `s` under `l`, which must be `f32` and contiguous.
fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else {
        candle_core::bail!("{op} is f32 only")
    };
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => candle_core::bail!("{op} needs a contiguous input"),
    }
}

impl<K> OnCpu<K> {
    fn run<const N: usize>(
        &self,
        storages: [&CpuStorage; N],
        layouts: [&Layout; N],
    ) -> Result<(CpuStorage, Shape)>
    where
        K: F32Kernel<N>,
    {
        let mut inputs: [&[f32]; N] = [&[]; N];
        for (input, (s, l)) in inputs.iter_mut().zip(storages.into_iter().zip(layouts)) {
            *input = f32_slice(s, l, K::NAME)?;
        }
        let (out, shape) = self.0.forward(inputs, layouts)?;
        Ok((CpuStorage::F32(out), shape))
    }
}

impl<K: F32Kernel<1>> CustomOp1 for OnCpu<K> {
    fn name(&self) -> &'static str {
        K::NAME
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        self.run([s], [l])
    }

    fn bwd(&self, arg: &Tensor, res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let [d] = self.0.backward([arg], res, grad_res)?;
        Ok(d)
    }
}

/// `Option<Tensor>`, once per input named: the type of one gradient in candle's tuples.
macro_rules! gradient_type {
    ($input:ident) => {
        Option<Tensor>
    };
}

/// `impl $op for OnCpu<K>` for kernels of as many inputs as there are rows of names (storage,
/// layout, tensor, gradient): candle's signatures for two and three inputs differ only in
/// their count.
macro_rules! custom_op_of_arity {
    ($op:ident, $n:literal, $(($storage:ident, $layout:ident, $arg:ident, $grad:ident)),+) => {
        impl<K: F32Kernel<$n>> $op for OnCpu<K> {
            fn name(&self) -> &'static str {
                K::NAME
            }

            fn cpu_fwd(
                &self,
                $($storage: &CpuStorage, $layout: &Layout),+
            ) -> Result<(CpuStorage, Shape)> {
                self.run([$($storage),+], [$($layout),+])
            }

            fn bwd(
                &self,
                $($arg: &Tensor,)+
                res: &Tensor,
                grad_res: &Tensor,
            ) -> Result<($(gradient_type!($grad)),+)> {
                let [$($grad),+] = self.0.backward([$($arg),+], res, grad_res)?;
                Ok(($($grad),+))
            }
        }
    };
}

custom_op_of_arity!(CustomOp2, 2, (s1, l1, a1, d1), (s2, l2, a2, d2));
custom_op_of_arity!(
    CustomOp3,
    3,
    (s1, l1, a1, d1),
    (s2, l2, a2, d2),
    (s3, l3, a3, d3)
);

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// `a * b`, element by element, with no backward.
    struct Product;

    impl F32Kernel<2> for Product {
        const NAME: &'static str = "product";

        fn forward(&self, [a, b]: [&[f32]; 2], [l, _]: [&Layout; 2]) -> Result<(Vec<f32>, Shape)> {
            Ok((
                a.iter().zip(b).map(|(a, b)| a * b).collect(),
                l.shape().clone(),
            ))
        }
    }

    #[test]
    fn a_kernel_sees_the_viewed_elements_and_names_itself_in_errors() {
        let dev = Device::Cpu;
        let a = Tensor::arange(0f32, 12.0, &dev)
            .unwrap()
            .reshape((3, 4))
            .unwrap();
        let b = Tensor::full(2f32, (2, 4), &dev).unwrap();
        // A row view: the kernel must read rows 1 and 2, not the storage's start.
        let rows = a.narrow(0, 1, 2).unwrap();
        let out = rows.apply_op2_no_bwd(&b, &OnCpu(Product)).unwrap();
        let want: Vec<f32> = (4..12).map(|v| 2.0 * v as f32).collect();
        assert_eq!(out.flatten_all().unwrap().to_vec1::<f32>().unwrap(), want);
        let columns = a.narrow(1, 0, 2).unwrap();
        let err = columns.apply_op2_no_bwd(&b, &OnCpu(Product)).unwrap_err();
        assert!(
            err.to_string().contains("product needs a contiguous input"),
            "{err}"
        );
        let ints = Tensor::zeros((2, 4), candle_core::DType::U32, &dev).unwrap();
        let err = ints.apply_op2_no_bwd(&b, &OnCpu(Product)).unwrap_err();
        assert!(err.to_string().contains("product is f32 only"), "{err}");
    }
}
