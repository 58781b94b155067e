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
    /// The value of a literal, or of a symbol defined (through a chain of symbols) as a
    /// literal: ca65 folds operations on such "easy constants" while parsing, which makes
    /// `C1+C2-C2` a plain literal sized by its value.
    fn easy_const(&self, e: &Expr) -> Option<i64>;
}

/// A read position in a token list.
pub struct Cursor<'t> {
    pub toks: &'t [Token],
    pub pos: usize,
    /// Column just after the last token, for "expected ... at end of line" errors.
    pub end_col: u32,
    /// Parenthesis nesting and operand count of the expression being parsed: both are
    /// bounded so that hostile input cannot overflow the stack of the recursive passes.
    depth: u32,
    operands: u32,
}

/// Deepest parenthesis nesting accepted in one expression.
const MAX_DEPTH: u32 = 64;
/// Most operands accepted in one expression.
const MAX_OPERANDS: u32 = 1000;

impl<'t> Cursor<'t> {
    pub fn new(toks: &'t [Token], end_col: u32) -> Self {
        Cursor {
            toks,
            pos: 0,
            end_col,
            depth: 0,
            operands: 0,
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
    pub fn bump(&mut self) -> Option<&'t Tok> {
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
    if c.depth == 0 {
        c.operands = 0;
    }
    if c.depth >= MAX_DEPTH {
        return Err((
            c.col(),
            format!("expression nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    c.depth += 1;
    let result = parse_bool_or(c, r);
    c.depth -= 1;
    result
}

fn parse_bool_or(c: &mut Cursor, r: &mut dyn Resolver) -> Result<Expr, ExprError> {
    if c.eat(Op::Bang) || eat_dir(c, "not") {
        let e = parse(c, r)?;
        return Ok(unary(r, Un::BoolNot, e));
    }
    let mut left = parse_and(c, r)?;
    while c.eat(Op::OrOr) || eat_dir(c, "or") {
        let right = parse_and(c, r)?;
        left = bin(r, Bin::BoolOr, left, right, c.col())?;
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

/// Builds `l op r`, folded to a literal when both sides are easy constants (as ca65 does).
fn bin(r: &dyn Resolver, op: Bin, left: Expr, right: Expr, col: u32) -> Result<Expr, ExprError> {
    if let (Some(a), Some(b)) = (r.easy_const(&left), r.easy_const(&right)) {
        return apply(op, a, b).map(Expr::Lit).map_err(|m| (col, m));
    }
    Ok(Expr::Bin(op, Box::new(left), Box::new(right)))
}

/// The value of `op v`.
fn apply_unary(op: Un, v: i64) -> i64 {
    match op {
        Un::Neg => v.wrapping_neg(),
        Un::Not => !v,
        Un::Lo => v & 0xff,
        Un::Hi => (v >> 8) & 0xff,
        Un::Bank => (v >> 16) & 0xff,
        Un::BoolNot => i64::from(v == 0),
    }
}

/// Builds `op e`, folded to a literal when `e` is an easy constant.
fn unary(r: &dyn Resolver, op: Un, e: Expr) -> Expr {
    match r.easy_const(&e) {
        Some(v) => Expr::Lit(apply_unary(op, v)),
        None => Expr::Un(op, Box::new(e)),
    }
}

fn parse_and(c: &mut Cursor, r: &mut dyn Resolver) -> Result<Expr, ExprError> {
    let mut left = parse_cmp(c, r)?;
    while c.eat(Op::AndAnd) || eat_dir(c, "and") {
        let right = parse_cmp(c, r)?;
        left = bin(r, Bin::BoolAnd, left, right, c.col())?;
    }
    Ok(left)
}

/// The left-associative binary levels, loosest first: `parse_cmp` starts at [`CMP`].
const CMP: u8 = 0;
const SUM: u8 = 1;
const TERM: u8 = 2;

/// A binary operator's level and meaning (ca65's: `.bitor` is `|`, `.mod` is `%` ...).
fn binary_op(t: &Tok) -> Option<(u8, Bin)> {
    Some(match t {
        Tok::Op(Op::Eq) => (CMP, Bin::Eq),
        Tok::Op(Op::Ne) => (CMP, Bin::Ne),
        Tok::Op(Op::Lt) => (CMP, Bin::Lt),
        Tok::Op(Op::Gt) => (CMP, Bin::Gt),
        Tok::Op(Op::Le) => (CMP, Bin::Le),
        Tok::Op(Op::Ge) => (CMP, Bin::Ge),
        Tok::Op(Op::Plus) => (SUM, Bin::Add),
        Tok::Op(Op::Minus) => (SUM, Bin::Sub),
        Tok::Op(Op::Pipe) => (SUM, Bin::Or),
        Tok::Op(Op::Star) => (TERM, Bin::Mul),
        Tok::Op(Op::Slash) => (TERM, Bin::Div),
        Tok::Op(Op::Amp) => (TERM, Bin::And),
        Tok::Op(Op::Caret) => (TERM, Bin::Xor),
        Tok::Op(Op::Shl) => (TERM, Bin::Shl),
        Tok::Op(Op::Shr) => (TERM, Bin::Shr),
        Tok::Directive(d) => match d.as_str() {
            "bitor" => (SUM, Bin::Or),
            "mod" => (TERM, Bin::Mod),
            "bitand" => (TERM, Bin::And),
            "bitxor" => (TERM, Bin::Xor),
            "shl" => (TERM, Bin::Shl),
            "shr" => (TERM, Bin::Shr),
            _ => return None,
        },
        _ => return None,
    })
}

/// `operand (op operand)*` at `level`, left-associative; the operands are the next level's
/// (factors below [`TERM`]).
fn parse_level(c: &mut Cursor, r: &mut dyn Resolver, level: u8) -> Result<Expr, ExprError> {
    let operand = |c: &mut Cursor, r: &mut dyn Resolver| {
        if level == TERM {
            parse_factor(c, r)
        } else {
            parse_level(c, r, level + 1)
        }
    };
    let mut left = operand(c, r)?;
    while let Some((_, op)) = c.peek().and_then(binary_op).filter(|&(l, _)| l == level) {
        c.pos += 1;
        let right = operand(c, r)?;
        left = bin(r, op, left, right, c.col())?;
    }
    Ok(left)
}

fn parse_cmp(c: &mut Cursor, r: &mut dyn Resolver) -> Result<Expr, ExprError> {
    parse_level(c, r, CMP)
}

/// A prefix operator: `-` negates, `~` complements, `<` `>` `^` take the low, high and bank
/// byte.
fn prefix_op(t: &Tok) -> Option<Un> {
    Some(match t {
        Tok::Op(Op::Minus) => Un::Neg,
        Tok::Op(Op::Tilde) => Un::Not,
        Tok::Op(Op::Lt) => Un::Lo,
        Tok::Op(Op::Gt) => Un::Hi,
        Tok::Op(Op::Caret) => Un::Bank,
        _ => return None,
    })
}

fn parse_factor(c: &mut Cursor, r: &mut dyn Resolver) -> Result<Expr, ExprError> {
    let col = c.col();
    c.operands += 1;
    if c.operands > MAX_OPERANDS {
        return Err((
            col,
            format!("expression has more than {MAX_OPERANDS} operands"),
        ));
    }
    let tok = c.bump();
    if let Some(op) = tok.and_then(prefix_op) {
        let e = parse_factor(c, r)?;
        return Ok(unary(r, op, e));
    }
    match tok {
        Some(Tok::Int(v)) => Ok(Expr::Lit(*v)),
        Some(Tok::Op(Op::Plus)) => parse_factor(c, r),
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
            Ok(unary(r, op, e))
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
        match c.bump() {
            Some(Tok::Ident(n)) => path.push(n.clone()),
            _ => return Err((col, "expected a symbol name after '::'".into())),
        }
    }
    while c.peek() == Some(&Tok::Op(Op::ColonColon)) {
        c.pos += 1;
        match c.bump() {
            Some(Tok::Ident(n)) => path.push(n.clone()),
            _ => return Err((col, "expected a symbol name after '::'".into())),
        }
    }
    r.symbol(&path, rooted, col)
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
        Expr::Un(op, inner) => apply_unary(*op, eval(inner, sym, seg_base)?),
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
