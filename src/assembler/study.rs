//! ca65's expression "study": the value of an expression when it is known now, and its
//! address size, which decides zero-page versus absolute addressing. Mirrors the rules of
//! ca65's studyexpr.c: literals are sized by value, labels by their segment, symbols by the
//! size recorded when they were defined, and forward references stay "default" (absolute).

use super::expr::{apply, AddrSize, Bin, Expr, SegId, SymId, Un};

/// Longest chain of symbols defined through each other that is followed (guards the stack).
pub const MAX_SYMBOL_CHAIN: usize = 256;

/// Address size of a constant value, as ca65 computes it.
pub fn const_size(v: i64) -> AddrSize {
    if v & !0xff == 0 {
        AddrSize::Zp
    } else if v & !0xffff == 0 {
        AddrSize::Abs
    } else if v & !0xff_ffff == 0 {
        AddrSize::Far
    } else {
        AddrSize::Long
    }
}

/// What study needs to know about symbols and segments.
pub trait SymInfo {
    /// The defining expression of a symbol, if it is defined.
    fn def(&self, id: SymId) -> Option<&Expr>;
    /// The address size recorded when the symbol was defined.
    fn addr_size(&self, id: SymId) -> AddrSize;
    /// For an undefined symbol: the address size of a same-named symbol in an outer scope.
    fn outer_addr_size(&self, id: SymId) -> AddrSize;
    /// The address size of a segment (zeropage or absolute).
    fn seg_addr_size(&self, seg: SegId) -> AddrSize;
}

/// The result of studying an expression: value if constant, address size, references.
#[derive(Debug, Clone)]
pub struct Study {
    pub val: i64,
    pub addr: AddrSize,
    complex: bool,
    right: i64,
    syms: Vec<(SymId, i64)>,
    secs: Vec<(SegId, i64)>,
}

impl Study {
    fn new() -> Self {
        Study {
            val: 0,
            addr: AddrSize::Default,
            complex: false,
            right: 0,
            syms: Vec::new(),
            secs: Vec::new(),
        }
    }
    fn valid(&self) -> bool {
        !self.complex
    }
    /// True when the expression has a value known now (no symbol or segment left).
    pub fn is_const(&self) -> bool {
        !self.complex && self.syms.iter().all(|s| s.1 == 0) && self.secs.iter().all(|s| s.1 == 0)
    }
    fn update_addr(&mut self, a: AddrSize) {
        if self.valid() {
            if self.addr == AddrSize::Default || a > self.addr {
                self.addr = a;
            }
        } else if self.addr != AddrSize::Default && (a == AddrSize::Default || a > self.addr) {
            self.addr = a;
        }
    }
    fn merge_addr(&mut self, r: &Study) {
        if self.addr == AddrSize::Default {
            if self.valid() {
                self.addr = r.addr;
            }
        } else if r.addr == AddrSize::Default {
            if !r.valid() {
                self.addr = r.addr;
            }
        } else if r.addr > self.addr {
            self.addr = r.addr;
        }
    }
    fn merge_refs(&mut self, r: &Study, sign: i64) {
        for &(id, n) in &r.syms {
            add_ref(&mut self.syms, id, n.wrapping_mul(sign));
        }
        for &(id, n) in &r.secs {
            add_ref(&mut self.secs, id, n.wrapping_mul(sign));
        }
    }
    fn scale_refs(&mut self, k: i64) {
        self.syms.iter_mut().for_each(|s| s.1 = s.1.wrapping_mul(k));
        self.secs.iter_mut().for_each(|s| s.1 = s.1.wrapping_mul(k));
    }
}

fn add_ref(v: &mut Vec<(u32, i64)>, id: u32, n: i64) {
    match v.iter_mut().find(|e| e.0 == id) {
        Some(e) => e.1 = e.1.wrapping_add(n),
        None => v.push((id, n)),
    }
}

/// Studies `e`: its value when constant and its ca65 address size.
pub fn study(e: &Expr, info: &dyn SymInfo) -> Result<Study, String> {
    let mut d = Study::new();
    let mut visiting = Vec::new();
    study_into(e, info, &mut d, &mut visiting)?;
    d.syms.retain(|s| s.1 != 0);
    d.secs.retain(|s| s.1 != 0);
    if d.addr == AddrSize::Default && d.is_const() {
        d.addr = const_size(d.val);
    }
    if d.valid() {
        if !d.syms.is_empty() || !d.secs.is_empty() {
            d.addr = AddrSize::Default;
            for &(id, _) in &d.syms {
                d.addr = d.addr.max(info.addr_size(id));
            }
            for &(seg, _) in &d.secs {
                d.addr = d.addr.max(info.seg_addr_size(seg));
            }
        } else {
            d.addr = d.addr.max(const_size(d.val));
        }
    }
    Ok(d)
}

fn study_into(
    e: &Expr,
    info: &dyn SymInfo,
    d: &mut Study,
    vis: &mut Vec<SymId>,
) -> Result<(), String> {
    match e {
        Expr::Lit(v) => {
            d.val = *v;
            d.addr = const_size(*v);
        }
        Expr::SegOff(seg, off) => {
            add_ref(&mut d.secs, *seg, 1);
            d.update_addr(info.seg_addr_size(*seg));
            d.val = d.val.wrapping_add(*off);
            let off_size = const_size(*off);
            if d.addr != AddrSize::Default && off_size > d.addr {
                d.addr = off_size;
            }
        }
        Expr::Sym(id) => match info.def(*id) {
            Some(def) => {
                if vis.contains(id) {
                    return Err("circular reference in symbol definition".into());
                }
                if vis.len() >= MAX_SYMBOL_CHAIN {
                    return Err(format!(
                        "symbol definitions nested deeper than {MAX_SYMBOL_CHAIN}"
                    ));
                }
                vis.push(*id);
                study_into(def, info, d, vis)?;
                vis.pop();
                let a = info.addr_size(*id);
                if a != AddrSize::Default {
                    d.addr = a;
                }
            }
            None => {
                add_ref(&mut d.syms, *id, 1);
                d.complex = true;
                let own = info.addr_size(*id);
                let outer = info.outer_addr_size(*id);
                if own == AddrSize::Default && outer != AddrSize::Default {
                    d.addr = outer;
                } else if own != AddrSize::Default {
                    d.addr = own;
                }
            }
        },
        Expr::Un(op, inner) => {
            study_into(inner, info, d, vis)?;
            let konst = d.is_const();
            match op {
                Un::Neg => {
                    if d.valid() {
                        d.val = d.val.wrapping_neg();
                        d.scale_refs(-1);
                    }
                }
                Un::Not | Un::BoolNot => {
                    if konst {
                        d.val = if *op == Un::Not {
                            !d.val
                        } else {
                            i64::from(d.val == 0)
                        };
                    } else {
                        d.complex = true;
                    }
                    if *op == Un::BoolNot {
                        d.addr = AddrSize::Zp;
                    }
                }
                Un::Lo | Un::Hi | Un::Bank => {
                    let shift = match op {
                        Un::Lo => 0,
                        Un::Hi => 8,
                        _ => 16,
                    };
                    if konst {
                        d.val = (d.val >> shift) & 0xff;
                    } else {
                        d.complex = true;
                    }
                    d.addr = AddrSize::Zp;
                }
            }
        }
        Expr::Bin(op, l, r) => study_bin(*op, l, r, info, d, vis)?,
    }
    Ok(())
}

fn study_bin(
    op: Bin,
    l: &Expr,
    r: &Expr,
    info: &dyn SymInfo,
    d: &mut Study,
    vis: &mut Vec<SymId>,
) -> Result<(), String> {
    if matches!(op, Bin::BoolAnd | Bin::BoolOr) {
        study_into(l, info, d, vis)?;
        if d.is_const() {
            let short = (d.val != 0) == (op == Bin::BoolOr);
            if short {
                d.val = 1;
            } else {
                *d = Study::new();
                study_into(r, info, d, vis)?;
                if d.is_const() {
                    d.val = i64::from(d.val != 0);
                } else {
                    d.complex = true;
                }
            }
        } else {
            d.complex = true;
        }
        d.addr = AddrSize::Zp;
        return Ok(());
    }
    study_into(l, info, d, vis)?;
    let mut rd = Study::new();
    study_into(r, info, &mut rd, vis)?;
    match op {
        Bin::Add | Bin::Sub => {
            let sign = if op == Bin::Add { 1 } else { -1 };
            if d.valid() && rd.valid() {
                d.val = d.val.wrapping_add(rd.val.wrapping_mul(sign));
                d.merge_refs(&rd, sign);
            } else {
                d.complex = true;
                d.merge_refs(&rd, 1);
            }
            d.merge_addr(&rd);
        }
        Bin::Mul => {
            if d.is_const() && rd.valid() {
                let k = d.val;
                rd.val = rd.val.wrapping_mul(k);
                rd.scale_refs(k);
                rd.merge_addr(d);
                *d = rd;
            } else if rd.is_const() && d.valid() {
                d.val = d.val.wrapping_mul(rd.val);
                d.scale_refs(rd.val);
                d.merge_addr(&rd);
            } else {
                d.complex = true;
                d.merge_refs(&rd, 1);
                d.merge_addr(&rd);
            }
        }
        _ => {
            if d.is_const() && rd.is_const() {
                d.right = rd.val;
                d.val = apply(op, d.val, d.right)?;
            } else {
                d.complex = true;
                d.merge_refs(&rd, 1);
                d.merge_addr(&rd);
            }
            if matches!(
                op,
                Bin::Eq | Bin::Ne | Bin::Lt | Bin::Gt | Bin::Le | Bin::Ge
            ) {
                d.addr = AddrSize::Zp;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembler::symbols::Symbols;

    #[test]
    fn sizes_follow_ca65() {
        let mut syms = Symbols::new();
        syms.seg_addr = vec![AddrSize::Zp, AddrSize::Abs];
        let lit = |v| Expr::Lit(v);
        let add = |a, b| Expr::Bin(Bin::Add, Box::new(a), Box::new(b));
        let s = study(&lit(0x10), &syms).unwrap();
        assert!(s.is_const() && s.addr == AddrSize::Zp);
        assert_eq!(study(&lit(0x1234), &syms).unwrap().addr, AddrSize::Abs);
        // A zero-page label plus a large constant keeps the label's size (ld65 then range-checks).
        let s = study(&add(Expr::SegOff(0, 0), lit(0x100)), &syms).unwrap();
        assert!(!s.is_const() && s.addr == AddrSize::Zp);
        assert_eq!(
            study(&Expr::SegOff(1, 0), &syms).unwrap().addr,
            AddrSize::Abs
        );
        // A label minus itself is constant but keeps the absolute size.
        let diff = Expr::Bin(
            Bin::Sub,
            Box::new(Expr::SegOff(1, 5)),
            Box::new(Expr::SegOff(1, 2)),
        );
        let s = study(&diff, &syms).unwrap();
        assert!(s.is_const() && s.val == 3 && s.addr == AddrSize::Abs);
        // An undefined symbol gives "default" (the instruction then picks absolute).
        let fwd = syms.get_or_create(0, "fwd");
        assert_eq!(
            study(&Expr::Sym(fwd), &syms).unwrap().addr,
            AddrSize::Default
        );
        assert_eq!(
            study(&Expr::Un(Un::Lo, Box::new(Expr::Sym(fwd))), &syms)
                .unwrap()
                .addr,
            AddrSize::Zp
        );
    }
}
