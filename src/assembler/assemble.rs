//! The assembler's state: segments with their bytes and fix-ups, symbol handling and
//! instruction encoding. Sizes are decided when a line is read (ca65 is a one-pass
//! assembler): an operand whose address size is not known yet (a forward reference) gets
//! absolute addressing. Values that are not known yet become fix-ups that the linker
//! resolves once every segment has an address.

use super::expr::{self, AddrSize, Bin, Cursor, Expr, ExprError, Resolver, SegId};
use super::lexer::{Op, Tok};
use super::macros::MacroDef;
use super::opcodes::{Instruction, Mode, Timing};
use super::study::{self, Study};
use super::symbols::{Pos, ScopeId, Symbols};
use super::SourceSet;
use std::collections::HashMap;

/// What a fix-up writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixKind {
    /// One byte, 0..=255.
    Byte,
    /// A little-endian word, 0..=65535.
    Word,
    /// A branch displacement: the expression is `target - address after the branch`.
    Branch,
}

impl FixKind {
    fn len(self) -> u32 {
        if self == FixKind::Word {
            2
        } else {
            1
        }
    }
}

/// A value the linker writes once addresses are known.
#[derive(Debug, Clone)]
pub struct Fixup {
    pub offset: u32,
    pub kind: FixKind,
    pub expr: Expr,
    pub pos: Pos,
}

/// One segment of the object: bytes, ranges the linker fills with the fill value (`.res`
/// without a value, `.align`), and fix-ups.
#[derive(Debug, Clone)]
pub struct Segment {
    pub name: String,
    pub addr: AddrSize,
    pub data: Vec<u8>,
    pub fills: Vec<(u32, u32)>,
    pub fixups: Vec<Fixup>,
    /// `.org` (absolute mode, until `.reloc`): the segment offset where it was given and the
    /// address the bytes from there are assembled for (they still go where the segment is
    /// placed, as ca65).
    pub org: Option<(u32, i64)>,
    /// Every instruction, in order: what the cycle listing ([`super::listing`]) reads.
    pub instrs: Vec<InstrAt>,
}

/// One assembled instruction, as the cycle listing needs it.
#[derive(Debug, Clone)]
pub struct InstrAt {
    /// Offset of the opcode in the segment.
    pub offset: u32,
    /// The address it is assembled for when `.org` gave one (else the segment's placement
    /// decides).
    pub org_addr: Option<i64>,
    pub mnemonic: &'static str,
    pub mode: Mode,
    pub timing: Timing,
    /// The operand: a branch's or jump's target, an indexed read's base address.
    pub operand: Option<Expr>,
    pub pos: Pos,
}

/// An `.assert`: checked by the linker, once every address is known.
#[derive(Debug, Clone)]
pub struct Assertion {
    pub expr: Expr,
    /// `error`/`lderror` stop the link; `warning`/`ldwarning` only report.
    pub is_error: bool,
    pub message: String,
    pub pos: Pos,
}

/// The assembled translation unit, ready to link.
#[derive(Debug, Clone)]
pub struct Object {
    pub segments: Vec<Segment>,
    pub symbols: Symbols,
    pub files: Vec<String>,
    pub asserts: Vec<Assertion>,
}

/// One open `.if` block.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cond {
    pub parent_active: bool,
    pub active: bool,
    pub taken: bool,
    pub seen_else: bool,
    pub pos: Pos,
}

/// The assembler while it reads the sources.
pub struct Assembler<'s> {
    pub(super) sources: &'s SourceSet,
    pub(super) files: Vec<String>,
    pub(super) syms: Symbols,
    pub(super) segs: Vec<Segment>,
    pub(super) seg_index: HashMap<String, SegId>,
    pub(super) cur_seg: SegId,
    pub(super) scope: ScopeId,
    pub(super) cheap_area: Option<u32>,
    pub(super) next_cheap_area: u32,
    /// Open `.proc`/`.scope` blocks: scope to return to and where the block opened.
    pub(super) blocks: Vec<(ScopeId, Pos, &'static str)>,
    pub(super) conds: Vec<Cond>,
    pub(super) exports: Vec<(String, ScopeId, Pos)>,
    pub(super) asserts: Vec<Assertion>,
    /// Defined macros, the one being recorded, and how deep expansions nest now.
    pub(super) macros: HashMap<String, MacroDef>,
    pub(super) recording: Option<MacroDef>,
    pub(super) expansion_depth: u32,
    /// Position of the line being assembled (column set per token).
    pub(super) pos: Pos,
}

/// Shorthand for a line-local error result.
pub(super) type LineResult<T> = Result<T, ExprError>;

impl<'s> Assembler<'s> {
    pub fn new(sources: &'s SourceSet) -> Self {
        let mut a = Assembler {
            sources,
            files: Vec::new(),
            syms: Symbols::new(),
            segs: Vec::new(),
            seg_index: HashMap::new(),
            cur_seg: 0,
            scope: 0,
            cheap_area: None,
            next_cheap_area: 0,
            blocks: Vec::new(),
            conds: Vec::new(),
            exports: Vec::new(),
            asserts: Vec::new(),
            macros: HashMap::new(),
            recording: None,
            expansion_depth: 0,
            pos: Pos::default(),
        };
        a.cur_seg = a.segment("CODE", None).unwrap_or(0);
        a
    }

    /// Switches to (creating if needed) segment `name`; `explicit` is a `: zeropage` style
    /// address size. ca65 treats ZEROPAGE as zero page without being told.
    pub(super) fn segment(
        &mut self,
        name: &str,
        explicit: Option<AddrSize>,
    ) -> Result<SegId, String> {
        if let Some(&id) = self.seg_index.get(name) {
            let seg = &self.segs[id as usize];
            if let Some(a) = explicit {
                if a != seg.addr {
                    return Err(format!(
                        "segment '{name}' was opened with another address size"
                    ));
                }
            }
            return Ok(id);
        }
        let addr = explicit.unwrap_or(if name == "ZEROPAGE" {
            AddrSize::Zp
        } else {
            AddrSize::Abs
        });
        let id = self.segs.len() as SegId;
        self.segs.push(Segment {
            name: name.to_string(),
            addr,
            data: Vec::new(),
            fills: Vec::new(),
            fixups: Vec::new(),
            org: None,
            instrs: Vec::new(),
        });
        self.syms.seg_addr.push(addr);
        self.seg_index.insert(name.to_string(), id);
        Ok(id)
    }

    pub(super) fn seg(&mut self) -> &mut Segment {
        &mut self.segs[self.cur_seg as usize]
    }

    /// The address `extra` bytes past the current one: an offset in the segment, or after
    /// `.org` a number.
    pub(super) fn pc_plus(&self, extra: i64) -> Expr {
        let seg = &self.segs[self.cur_seg as usize];
        let off = i64::from(self.offset());
        match seg.org {
            Some((at, addr)) => Expr::Lit(addr + off - i64::from(at) + extra),
            None => Expr::SegOff(self.cur_seg, off + extra),
        }
    }

    /// The current offset in the current segment.
    pub(super) fn offset(&self) -> u32 {
        self.segs[self.cur_seg as usize].data.len() as u32
    }

    pub(super) fn at(&self, col: u32) -> Pos {
        Pos { col, ..self.pos }
    }

    /// Starts a new cheap-local area (after any normal symbol definition, `.proc`, `.endproc`).
    pub(super) fn new_cheap_area(&mut self) {
        self.cheap_area = Some(self.next_cheap_area);
        self.next_cheap_area += 1;
    }

    pub(super) fn study(&self, e: &Expr, col: u32) -> LineResult<Study> {
        study::study(e, &self.syms).map_err(|m| (col, m))
    }

    /// Evaluates an expression that must be constant now (`.res`, `.if`, `.align` ...).
    pub(super) fn const_value(&self, e: &Expr, col: u32) -> LineResult<i64> {
        if let Expr::Lit(v) = e {
            return Ok(*v);
        }
        let s = self.study(e, col)?;
        if s.is_const() {
            Ok(s.val)
        } else {
            Err((col, "constant expression expected".into()))
        }
    }

    /// Emits a value of `kind`: written now when known, otherwise recorded as a fix-up.
    pub(super) fn emit_expr(&mut self, e: Expr, kind: FixKind, col: u32) -> LineResult<()> {
        let value = match &e {
            Expr::Lit(v) => Some(*v),
            _ => {
                let s = self.study(&e, col)?;
                s.is_const().then_some(s.val)
            }
        };
        match value {
            Some(v) => {
                check_range(kind, v).map_err(|m| (col, m))?;
                let seg = self.seg();
                seg.data.push(v as u8);
                if kind == FixKind::Word {
                    seg.data.push((v >> 8) as u8);
                }
            }
            None => {
                let pos = self.at(col);
                let seg = self.seg();
                let offset = seg.data.len() as u32;
                seg.fixups.push(Fixup {
                    offset,
                    kind,
                    expr: e,
                    pos,
                });
                seg.data.extend(std::iter::repeat_n(0, kind.len() as usize));
            }
        }
        Ok(())
    }

    /// Assembles one instruction; `c` is positioned after the mnemonic.
    pub(super) fn instruction(
        &mut self,
        ins: Instruction,
        c: &mut Cursor,
        mcol: u32,
    ) -> LineResult<()> {
        let (syntax, operand, force) = self.operand(c)?;
        if !c.at_end() {
            return Err((c.col(), "unexpected tokens after the operand".into()));
        }
        let mut modes: Vec<Mode> = syntax
            .iter()
            .copied()
            .filter(|&m| ins.opcode(m).is_some())
            .collect();
        match force {
            Some(AddrSize::Zp) => modes.retain(|m| m.is_zp()),
            Some(_) => {
                modes.retain(|m| matches!(m, Mode::Abs | Mode::AbsX | Mode::AbsY | Mode::Ind))
            }
            None => {}
        }
        if let Some((e, col)) = &operand {
            if !modes.is_empty() && !matches!(modes[0], Mode::Imm | Mode::Rel) {
                let mut size = self.study(e, *col)?.addr;
                if size == AddrSize::Default {
                    size = if modes.iter().all(|m| m.is_zp()) {
                        AddrSize::Zp
                    } else {
                        AddrSize::Abs
                    };
                }
                match size {
                    // ca65 drops only the direct zero-page forms; (zp,x) and (zp),y stay and the
                    // value is range-checked instead.
                    AddrSize::Abs => {
                        modes.retain(|m| !matches!(m, Mode::Zp | Mode::ZpX | Mode::ZpY))
                    }
                    AddrSize::Far => modes.retain(|m| matches!(m, Mode::IndX | Mode::IndY)),
                    _ => {}
                }
            }
        }
        let Some(&mode) = modes.first() else {
            let what = syntax
                .iter()
                .map(|m| m.describe())
                .collect::<Vec<_>>()
                .join("/");
            return Err((
                mcol,
                format!(
                    "illegal addressing mode: '{}' has no {what} form",
                    ins.mnemonic
                ),
            ));
        };
        let opcode = ins.opcode(mode).unwrap_or(0);
        self.record_instruction(ins, mode, operand.as_ref().map(|o| o.0.clone()));
        self.seg().data.push(opcode);
        let Some((e, col)) = operand else {
            return Ok(());
        };
        match mode {
            Mode::Rel => {
                let after = self.pc_plus(1);
                let dist = Expr::Bin(Bin::Sub, Box::new(e), Box::new(after));
                self.emit_expr(dist, FixKind::Branch, col)
            }
            m if m.operand_len() == 2 => self.emit_expr(e, FixKind::Word, col),
            _ => self.emit_expr(e, FixKind::Byte, col),
        }
    }

    fn record_instruction(&mut self, ins: Instruction, mode: Mode, operand: Option<Expr>) {
        let Some(timing) = ins.timing(mode) else {
            return;
        };
        let offset = self.offset();
        let org_addr = match self.pc_plus(0) {
            Expr::Lit(a) => Some(a),
            _ => None,
        };
        let pos = self.pos;
        self.seg().instrs.push(InstrAt {
            offset,
            org_addr,
            mnemonic: ins.mnemonic,
            mode,
            timing,
            operand,
            pos,
        });
    }

    /// Parses an operand: the modes its syntax allows, its expression, and an `a:`/`z:` prefix.
    #[allow(clippy::type_complexity)]
    fn operand(
        &mut self,
        c: &mut Cursor,
    ) -> LineResult<(Vec<Mode>, Option<(Expr, u32)>, Option<AddrSize>)> {
        if c.at_end() {
            return Ok((vec![Mode::Imp, Mode::Acc], None, None));
        }
        if let Some(Tok::Ident(r)) = c.peek() {
            if r.eq_ignore_ascii_case("a") && c.peek_at(1).is_none() {
                c.pos += 1;
                return Ok((vec![Mode::Acc], None, None));
            }
        }
        let col = c.col();
        if c.eat(Op::Hash) {
            let col = c.col();
            let e = expr::parse(c, self)?;
            return Ok((vec![Mode::Imm], Some((e, col)), None));
        }
        if c.eat(Op::LParen) {
            let e = expr::parse(c, self)?;
            if c.eat(Op::Comma) {
                expect_register(c, "x")?;
                c.expect(Op::RParen, "')' after ',x'")?;
                return Ok((vec![Mode::IndX], Some((e, col)), None));
            }
            c.expect(Op::RParen, "')'")?;
            if c.eat(Op::Comma) {
                expect_register(c, "y")?;
                return Ok((vec![Mode::IndY], Some((e, col)), None));
            }
            return Ok((vec![Mode::Ind], Some((e, col)), None));
        }
        let mut force = None;
        if let (Some(Tok::Ident(p)), Some(Tok::Op(Op::Colon))) = (c.peek(), c.peek_at(1)) {
            force = match p.to_ascii_lowercase().as_str() {
                "z" => Some(AddrSize::Zp),
                "a" => Some(AddrSize::Abs),
                _ => {
                    return Err((
                        col,
                        format!("unknown address size prefix '{p}:' (use a: or z:)"),
                    ))
                }
            };
            c.pos += 2;
        }
        let ecol = c.col();
        let e = expr::parse(c, self)?;
        if c.eat(Op::Comma) {
            let rcol = c.col();
            return match c.bump() {
                Some(Tok::Ident(r)) if r.eq_ignore_ascii_case("x") => {
                    Ok((vec![Mode::ZpX, Mode::AbsX], Some((e, ecol)), force))
                }
                Some(Tok::Ident(r)) if r.eq_ignore_ascii_case("y") => {
                    Ok((vec![Mode::ZpY, Mode::AbsY], Some((e, ecol)), force))
                }
                _ => Err((rcol, "expected register x or y after ','".into())),
            };
        }
        Ok((vec![Mode::Zp, Mode::Abs, Mode::Rel], Some((e, ecol)), force))
    }
}

fn expect_register(c: &mut Cursor, reg: &str) -> LineResult<()> {
    let col = c.col();
    match c.bump() {
        Some(Tok::Ident(r)) if r.eq_ignore_ascii_case(reg) => Ok(()),
        _ => Err((col, format!("expected register {reg}"))),
    }
}

/// Checks that a known value fits the field it is written to.
pub fn check_range(kind: FixKind, v: i64) -> Result<(), String> {
    match kind {
        FixKind::Byte if !(0..=0xff).contains(&v) => {
            Err(format!("range error: {v} does not fit in a byte (0..255)"))
        }
        FixKind::Word if !(0..=0xffff).contains(&v) => Err(format!(
            "range error: {v} does not fit in a word (0..65535)"
        )),
        FixKind::Branch if !(-128..=127).contains(&v) => Err(format!(
            "branch out of range: distance {v} is not in -128..127"
        )),
        _ => Ok(()),
    }
}

impl Resolver for Assembler<'_> {
    fn symbol(&mut self, path: &[String], rooted: bool, col: u32) -> Result<Expr, ExprError> {
        let pos = self.at(col);
        let Some((name, scopes)) = path.split_last() else {
            return Err((col, "empty symbol name".into()));
        };
        if scopes.is_empty() && !rooted {
            return Ok(Expr::Sym(self.syms.reference(self.scope, name, pos)));
        }
        let mut scope = 0;
        if let Some((first, rest)) = scopes.split_first() {
            scope = if rooted {
                self.syms.child_scope(0, first)
            } else {
                let mut s = Some(self.scope);
                let mut found = None;
                while let Some(sc) = s {
                    if let Some(child) = self.syms.child_scope(sc, first) {
                        found = Some(child);
                        break;
                    }
                    s = self.syms.scopes[sc as usize].parent;
                }
                found
            }
            .ok_or_else(|| (col, format!("no such scope: '{first}'")))?;
            for part in rest {
                scope = self
                    .syms
                    .child_scope(scope, part)
                    .ok_or_else(|| (col, format!("no such scope: '{part}'")))?;
            }
        }
        let id = self.syms.get_or_create(scope, name);
        let s = &mut self.syms.syms[id as usize];
        if s.ref_pos.is_none() {
            s.ref_pos = Some(pos);
        }
        Ok(Expr::Sym(id))
    }

    fn local(&mut self, name: &str, col: u32) -> Result<Expr, ExprError> {
        let area = self.cheap_area.ok_or_else(|| {
            (
                col,
                format!("cheap local '@{name}' used before any normal label"),
            )
        })?;
        Ok(Expr::Sym(self.syms.cheap_local(area, name, self.at(col))))
    }

    fn pc(&self) -> Expr {
        self.pc_plus(0)
    }

    fn easy_const(&self, e: &Expr) -> Option<i64> {
        let mut e = e;
        // Bounded: a chain of symbols longer than this is treated as not easy (ca65 would
        // report a circular definition later).
        for _ in 0..64 {
            match e {
                Expr::Lit(v) => return Some(*v),
                Expr::Sym(id) => e = self.syms.def_of(*id)?,
                _ => return None,
            }
        }
        None
    }
}
