//! Expressions: parsing with ca65 precedence, "studying" an expression to learn its address
//! size the way ca65 does (this decides zero-page versus absolute addressing), and final
//! evaluation once the linker has placed every segment.
//!
//! ca65 precedence, loosest first: `!`; `||`; `&&`; comparisons `= <> < > <= >=`;
//! `+ - |`; `* / & ^ << >>`; unary `- + ~ < > ^` (bind tightest, so `<label+1` is
//! `(<label)+1`).

use super::lexer::{Op, Tok, Token};

/// Index of a symbol in the assembler's symbol table.
pub type SymId = u32;
/// Index of a segment.
pub type SegId = u32;

/// ca65 address sizes, ordered from "unknown" to widest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AddrSize {
    Default,
    Zp,
    Abs,
    Far,
    Long,
}

/// An expression tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Lit(i64),
    Sym(SymId),
    /// Segment base plus an offset: a label or `*`.
    SegOff(SegId, i64),
    Un(Un, Box<Expr>),
    Bin(Bin, Box<Expr>, Box<Expr>),
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Un {
    Neg,
    Not,
    Lo,
    Hi,
    Bank,
    BoolNot,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bin {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
    Xor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    BoolAnd,
    BoolOr,
}

/// A parse or evaluation problem: column (0 when unknown) and message.
pub type ExprError = (u32, String);

/// What the expression parser needs from the assembler: symbol lookup and the current PC.
pub trait Resolver {
    /// Looks up (or creates as a forward reference) a symbol; `path` holds `a::b` parts and
    /// `rooted` marks a leading `::`.
    fn symbol(&mut self, path: &[String], rooted: bool, col: u32) -> Result<Expr, ExprError>;
    /// Looks up (or creates) a cheap local `@name`.
    fn local(&mut self, name: &str, col: u32) -> Result<Expr, ExprError>;
    /// The current program counter as an expression.
    fn pc(&self) -> Expr;
}

/// A read position in a token list.
pub struct Cursor<'t> {
    pub toks: &'t [Token],
    pub pos: usize,
    /// Column just after the last token, for "expected ... at end of line" errors.
    pub end_col: u32,
}

impl<'t> Cursor<'t> {
    pub fn new(toks: &'t [Token], end_col: u32) -> Self {
        Cursor {
            toks,
            pos: 0,
            end_col,
        }
    }
    pub fn peek(&self) -> Option<&'t Tok> {
        self.toks.get(self.pos).map(|t| &t.kind)
    }
    pub fn peek_at(&self, n: usize) -> Option<&'t Tok> {
        self.toks.get(self.pos + n).map(|t| &t.kind)
    }
    pub fn col(&self) -> u32 {
        self.toks.get(self.pos).map_or(self.end_col, |t| t.col)
    }
    pub fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }
    pub fn next(&mut self) -> Option<&'t Tok> {
        let t = self.toks.get(self.pos).map(|t| &t.kind);
        self.pos += 1;
        t
    }
    pub fn eat(&mut self, op: Op) -> bool {
        if self.peek() == Some(&Tok::Op(op)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    pub fn expect(&mut self, op: Op, what: &str) -> Result<(), ExprError> {
        if self.eat(op) {
            Ok(())
        } else {
            Err((self.col(), format!("expected {what}")))
        }
    }
}

/// Parses a full expression.
pub fn parse(c: &mut Cursor, r: &mut dyn Resolver) -> Result<Expr, ExprError> {
    if c.eat(Op::Bang) || eat_dir(c, "not") {
        let e = parse(c, r)?;
        return Ok(Expr::Un(Un::BoolNot, Box::new(e)));
    }
    let mut left = parse_and(c, r)?;
    while c.eat(Op::OrOr) || eat_dir(c, "or") {
        let right = parse_and(c, r)?;
        left = bin(Bin::BoolOr, left, right);
    }
    Ok(left)
}

fn eat_dir(c: &mut Cursor, name: &str) -> bool {
    if matches!(c.peek(), Some(Tok::Directive(d)) if d == name) {
        c.pos += 1;
        true
    } else {
        false
    }
}

fn bin(op: Bin, l: Expr, r: Expr) -> Expr {
    Expr::Bin(op, Box::new(l), Box::new(r))
}

fn parse_and(c: &mut Cursor, r: &mut dyn Resolver) -> Result<Expr, ExprError> {
    let mut left = parse_cmp(c, r)?;
    while c.eat(Op::AndAnd) || eat_dir(c, "and") {
        let right = parse_cmp(c, r)?;
        left = bin(Bin::BoolAnd, left, right);
    }
    Ok(left)
}

fn parse_cmp(c: &mut Cursor, r: &mut dyn Resolver) -> Result<Expr, ExprError> {
    let mut left = parse_sum(c, r)?;
    loop {
        let op = match c.peek() {
            Some(Tok::Op(Op::Eq)) => Bin::Eq,
            Some(Tok::Op(Op::Ne)) => Bin::Ne,
            Some(Tok::Op(Op::Lt)) => Bin::Lt,
            Some(Tok::Op(Op::Gt)) => Bin::Gt,
            Some(Tok::Op(Op::Le)) => Bin::Le,
            Some(Tok::Op(Op::Ge)) => Bin::Ge,
            _ => return Ok(left),
        };
        c.pos += 1;
        let right = parse_sum(c, r)?;
        left = bin(op, left, right);
    }
}

fn parse_sum(c: &mut Cursor, r: &mut dyn Resolver) -> Result<Expr, ExprError> {
    let mut left = parse_term(c, r)?;
    loop {
        let op = match c.peek() {
            Some(Tok::Op(Op::Plus)) => Bin::Add,
            Some(Tok::Op(Op::Minus)) => Bin::Sub,
            Some(Tok::Op(Op::Pipe)) => Bin::Or,
            Some(Tok::Directive(d)) if d == "bitor" => Bin::Or,
            _ => return Ok(left),
        };
        c.pos += 1;
        let right = parse_term(c, r)?;
        left = bin(op, left, right);
    }
}

fn parse_term(c: &mut Cursor, r: &mut dyn Resolver) -> Result<Expr, ExprError> {
    let mut left = parse_factor(c, r)?;
    loop {
        let op = match c.peek() {
            Some(Tok::Op(Op::Star)) => Bin::Mul,
            Some(Tok::Op(Op::Slash)) => Bin::Div,
            Some(Tok::Op(Op::Amp)) => Bin::And,
            Some(Tok::Op(Op::Caret)) => Bin::Xor,
            Some(Tok::Op(Op::Shl)) => Bin::Shl,
            Some(Tok::Op(Op::Shr)) => Bin::Shr,
            Some(Tok::Directive(d)) => match d.as_str() {
                "mod" => Bin::Mod,
                "bitand" => Bin::And,
                "bitxor" => Bin::Xor,
                "shl" => Bin::Shl,
                "shr" => Bin::Shr,
                _ => return Ok(left),
            },
            _ => return Ok(left),
        };
        c.pos += 1;
        let right = parse_factor(c, r)?;
        left = bin(op, left, right);
    }
}

fn parse_factor(c: &mut Cursor, r: &mut dyn Resolver) -> Result<Expr, ExprError> {
    let col = c.col();
    let un = |op: Un, e: Expr| Expr::Un(op, Box::new(e));
    match c.next() {
        Some(Tok::Int(v)) => Ok(Expr::Lit(*v)),
        Some(Tok::Op(Op::Minus)) => Ok(un(Un::Neg, parse_factor(c, r)?)),
        Some(Tok::Op(Op::Plus)) => parse_factor(c, r),
        Some(Tok::Op(Op::Tilde)) => Ok(un(Un::Not, parse_factor(c, r)?)),
        Some(Tok::Op(Op::Lt)) => Ok(un(Un::Lo, parse_factor(c, r)?)),
        Some(Tok::Op(Op::Gt)) => Ok(un(Un::Hi, parse_factor(c, r)?)),
        Some(Tok::Op(Op::Caret)) => Ok(un(Un::Bank, parse_factor(c, r)?)),
        Some(Tok::Op(Op::Star)) => Ok(r.pc()),
        Some(Tok::Op(Op::LParen)) => {
            let e = parse(c, r)?;
            c.expect(Op::RParen, "')'")?;
            Ok(e)
        }
        Some(Tok::Local(name)) => r.local(name, col),
        Some(Tok::Op(Op::ColonColon)) => parse_path(c, r, None, true, col),
        Some(Tok::Ident(name)) => parse_path(c, r, Some(name.clone()), false, col),
        Some(Tok::Directive(d)) => {
            let op = match d.as_str() {
                "lobyte" => Un::Lo,
                "hibyte" => Un::Hi,
                "bankbyte" => Un::Bank,
                _ => return Err((col, format!("'.{d}' is not supported in expressions"))),
            };
            c.expect(Op::LParen, "'(' after function name")?;
            let e = parse(c, r)?;
            c.expect(Op::RParen, "')'")?;
            Ok(un(op, e))
        }
        Some(Tok::Str(s)) if s.len() == 1 => Ok(Expr::Lit(i64::from(s[0]))),
        Some(_) => Err((col, "expected an expression".into())),
        None => Err((col, "expected an expression at end of line".into())),
    }
}

fn parse_path(
    c: &mut Cursor,
    r: &mut dyn Resolver,
    first: Option<String>,
    rooted: bool,
    col: u32,
) -> Result<Expr, ExprError> {
    let mut path: Vec<String> = first.into_iter().collect();
    if rooted {
        match c.next() {
            Some(Tok::Ident(n)) => path.push(n.clone()),
            _ => return Err((col, "expected a symbol name after '::'".into())),
        }
    }
    while c.peek() == Some(&Tok::Op(Op::ColonColon)) {
        c.pos += 1;
        match c.next() {
            Some(Tok::Ident(n)) => path.push(n.clone()),
            _ => return Err((col, "expected a symbol name after '::'".into())),
        }
    }
    r.symbol(&path, rooted, col)
}

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
            add_ref(&mut self.syms, id, n * sign);
        }
        for &(id, n) in &r.secs {
            add_ref(&mut self.secs, id, n * sign);
        }
    }
    fn scale_refs(&mut self, k: i64) {
        self.syms.iter_mut().for_each(|s| s.1 = s.1.wrapping_mul(k));
        self.secs.iter_mut().for_each(|s| s.1 = s.1.wrapping_mul(k));
    }
}

fn add_ref(v: &mut Vec<(u32, i64)>, id: u32, n: i64) {
    match v.iter_mut().find(|e| e.0 == id) {
        Some(e) => e.1 += n,
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

/// Applies a binary operator to two known values (ca65 semantics, 64-bit `long`).
pub fn apply(op: Bin, a: i64, b: i64) -> Result<i64, String> {
    Ok(match op {
        Bin::Add => a.wrapping_add(b),
        Bin::Sub => a.wrapping_sub(b),
        Bin::Mul => a.wrapping_mul(b),
        Bin::Div => {
            if b == 0 {
                return Err("division by zero".into());
            }
            a.wrapping_div(b)
        }
        Bin::Mod => {
            if b == 0 {
                return Err("modulo operation with zero".into());
            }
            a.wrapping_rem(b)
        }
        Bin::And => a & b,
        Bin::Or => a | b,
        Bin::Xor => a ^ b,
        Bin::Shl => shift(a, b),
        Bin::Shr => shift(a, b.wrapping_neg()),
        Bin::Eq => i64::from(a == b),
        Bin::Ne => i64::from(a != b),
        Bin::Lt => i64::from(a < b),
        Bin::Gt => i64::from(a > b),
        Bin::Le => i64::from(a <= b),
        Bin::Ge => i64::from(a >= b),
        Bin::BoolAnd => i64::from(a != 0 && b != 0),
        Bin::BoolOr => i64::from(a != 0 || b != 0),
    })
}

/// Left shift by `n` (right shift when negative); shifting out everything gives 0 (or -1).
fn shift(a: i64, n: i64) -> i64 {
    if n >= 0 {
        if n >= 64 {
            0
        } else {
            a.wrapping_shl(n as u32)
        }
    } else {
        let n = n.unsigned_abs();
        if n >= 64 {
            a >> 63
        } else {
            a >> n
        }
    }
}

/// Evaluates `e` given symbol values and segment base addresses.
pub fn eval(
    e: &Expr,
    sym: &mut dyn FnMut(SymId) -> Result<i64, String>,
    seg_base: &dyn Fn(SegId) -> i64,
) -> Result<i64, String> {
    Ok(match e {
        Expr::Lit(v) => *v,
        Expr::Sym(id) => sym(*id)?,
        Expr::SegOff(seg, off) => seg_base(*seg).wrapping_add(*off),
        Expr::Un(op, inner) => {
            let v = eval(inner, sym, seg_base)?;
            match op {
                Un::Neg => v.wrapping_neg(),
                Un::Not => !v,
                Un::Lo => v & 0xff,
                Un::Hi => (v >> 8) & 0xff,
                Un::Bank => (v >> 16) & 0xff,
                Un::BoolNot => i64::from(v == 0),
            }
        }
        Expr::Bin(op, l, r) => {
            let a = eval(l, sym, seg_base)?;
            match op {
                Bin::BoolAnd if a == 0 => 0,
                Bin::BoolOr if a != 0 => 1,
                _ => {
                    let b = eval(r, sym, seg_base)?;
                    apply(*op, a, b)?
                }
            }
        }
    })
}
