//! Reads source files line by line: labels, constants, directives and instructions, with
//! `.include`, `.if` blocks and `.proc` scopes.

use super::assemble::{Assembler, Cond, LineResult};
use super::expr::{self, Cursor, Expr};
use super::lexer::{tokenize, Op, Tok, Token};
use super::opcodes;
use super::symbols::Pos;
use crate::error::{Error, Result};

/// Deepest `.include` nesting accepted (guards against a file including itself).
pub(super) const MAX_INCLUDE_DEPTH: u32 = 16;

/// Builds the "file:line:col: message" error every assembler diagnostic uses.
pub fn diag(files: &[String], pos: Pos, msg: impl Into<String>) -> Error {
    let file = files
        .get(pos.file as usize)
        .map_or("<unknown>", String::as_str);
    Error::format(format!("{file}:{}:{}", pos.line, pos.col), msg)
}

impl Assembler<'_> {
    /// Assembles the file `name` (resolved relative to `from`'s folder first).
    pub fn assemble_file(
        &mut self,
        name: &str,
        from: Option<&str>,
        depth: u32,
        at: Pos,
    ) -> Result<()> {
        if depth > MAX_INCLUDE_DEPTH {
            return Err(diag(&self.files, at, format!("includes nested deeper than {MAX_INCLUDE_DEPTH} (does '{name}' include itself?)")));
        }
        let (resolved, bytes) = self.sources.resolve(name, from).ok_or_else(|| {
            if depth == 0 {
                Error::format(name, "source file not found in the source set")
            } else {
                diag(&self.files, at, format!("include file '{name}' not found"))
            }
        })?;
        let text = std::str::from_utf8(bytes)
            .map_err(|e| Error::format(&resolved, format!("not UTF-8 text: {e}")))?;
        let file = self.files.len() as u32;
        self.files.push(resolved.clone());
        for (i, line) in text.lines().enumerate() {
            self.pos = Pos {
                file,
                line: i as u32 + 1,
                col: 1,
            };
            if self.record_macro_line(line) {
                continue;
            }
            if self.active() && self.fast_byte_line(line) {
                continue;
            }
            let toks = tokenize(line).map_err(|(col, m)| diag(&self.files, self.at(col), m))?;
            if toks.is_empty() {
                continue;
            }
            let end_col = line.len() as u32 + 1;
            let line_pos = self.pos;
            match self.line(&toks, end_col, &resolved, depth) {
                Ok(()) => {}
                Err(LineError::Here(col, m)) => {
                    return Err(diag(&self.files, Pos { col, ..line_pos }, m))
                }
                Err(LineError::Done(e)) => return Err(e),
            }
        }
        Ok(())
    }

    /// Song data is mostly `.byte` lines of plain numbers: those are read straight into the
    /// segment without tokens or expression trees. Returns false (nothing consumed) for any
    /// line that needs the general path, including out-of-range values so that path reports
    /// the error.
    fn fast_byte_line(&mut self, line: &str) -> bool {
        let b = line.trim_start().as_bytes();
        if b.len() < 6 || !b[..5].eq_ignore_ascii_case(b".byte") || !matches!(b[5], b' ' | b'\t') {
            return false;
        }
        let seg = &mut self.segs[self.cur_seg as usize];
        let start = seg.data.len();
        let mut i = 5;
        loop {
            while i < b.len() && matches!(b[i], b' ' | b'\t') {
                i += 1;
            }
            let (radix, digits_from) = match b.get(i) {
                Some(b'$') => (16, i + 1),
                Some(b'%') => (2, i + 1),
                Some(c) if c.is_ascii_digit() => (10, i),
                _ => break,
            };
            let mut j = digits_from;
            let mut v: u32 = 0;
            while let Some(d) = b.get(j).and_then(|&c| (c as char).to_digit(radix)) {
                v = v * radix + d;
                if v > 0xff {
                    break;
                }
                j += 1;
            }
            if j == digits_from
                || v > 0xff
                || b.get(j)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                break;
            }
            seg.data.push(v as u8);
            i = j;
            while i < b.len() && matches!(b[i], b' ' | b'\t') {
                i += 1;
            }
            match b.get(i) {
                Some(b',') => i += 1,
                None | Some(b';') => return true,
                _ => break,
            }
        }
        seg.data.truncate(start);
        false
    }

    fn active(&self) -> bool {
        self.conds.last().is_none_or(|c| c.active)
    }

    pub(super) fn line(
        &mut self,
        toks: &[Token],
        end_col: u32,
        file: &str,
        depth: u32,
    ) -> std::result::Result<(), LineError> {
        let mut c = Cursor::new(toks, end_col);
        if let Some(Tok::Directive(d)) = c.peek() {
            if matches!(
                d.as_str(),
                "if" | "ifdef" | "ifndef" | "elseif" | "else" | "endif"
            ) {
                c.pos += 1;
                return Ok(self.conditional(d, &mut c)?);
            }
        }
        if !self.active() {
            return Ok(());
        }
        // Labels and constants.
        let col = c.col();
        match (c.peek(), c.peek_at(1)) {
            (Some(Tok::Ident(name)), Some(Tok::Op(Op::Eq | Op::Assign))) => {
                let name = name.clone();
                c.pos += 2;
                let e = expr::parse(&mut c, self)?;
                end(&c)?;
                return Ok(self.define(&name, false, e, col)?);
            }
            (Some(Tok::Ident(name)), Some(Tok::Op(Op::Colon))) => {
                let name = name.clone();
                c.pos += 2;
                let pc = self.pc_plus(0);
                self.define(&name, false, pc, col)?;
            }
            (Some(Tok::Local(name)), Some(Tok::Op(Op::Colon))) => {
                let name = name.clone();
                c.pos += 2;
                let pc = self.pc_plus(0);
                self.define(&name, true, pc, col)?;
            }
            (Some(Tok::Local(name)), Some(Tok::Op(Op::Eq | Op::Assign))) => {
                let name = name.clone();
                c.pos += 2;
                let e = expr::parse(&mut c, self)?;
                end(&c)?;
                return Ok(self.define(&name, true, e, col)?);
            }
            _ => {}
        }
        let col = c.col();
        match c.bump() {
            None => Ok(()),
            Some(Tok::Directive(d)) => self.directive(d, &mut c, col, file, depth),
            Some(Tok::Ident(m)) => match opcodes::find(m) {
                Some(ins) => Ok(self.instruction(ins, &mut c, col)?),
                None if self.macros.contains_key(m) => self.expand_macro(m, &toks[c.pos..], depth),
                None => Err(LineError::Here(col, format!("unknown mnemonic '{m}'"))),
            },
            Some(_) => Err(LineError::Here(
                col,
                "expected a label, directive or instruction".into(),
            )),
        }
    }

    /// Defines a symbol (label, `=` or `:=` constant, or cheap local).
    pub(super) fn define(&mut self, name: &str, cheap: bool, e: Expr, col: u32) -> LineResult<()> {
        let pos = self.at(col);
        let id = if cheap {
            let area = self.cheap_area.ok_or_else(|| {
                (
                    col,
                    format!("cheap local '@{name}' defined before any normal label"),
                )
            })?;
            self.syms.cheap_local(area, name, pos)
        } else {
            if ["a", "x", "y"].iter().any(|r| name.eq_ignore_ascii_case(r)) {
                return Err((
                    col,
                    format!("'{name}' is a register name and cannot be a symbol"),
                ));
            }
            self.syms.get_or_create(self.scope, name)
        };
        if let Some(prev) = self.syms.syms[id as usize].def_pos {
            let file = self
                .files
                .get(prev.file as usize)
                .cloned()
                .unwrap_or_default();
            return Err((
                col,
                format!(
                    "symbol '{name}' is already defined (at {file}:{}:{})",
                    prev.line, prev.col
                ),
            ));
        }
        // A label's address size is its segment's; a constant's is what study finds now.
        let addr = match e {
            Expr::SegOff(seg, _) => self.segs[seg as usize].addr,
            _ => self.study(&e, col)?.addr,
        };
        let s = &mut self.syms.syms[id as usize];
        s.def = Some(e);
        s.addr = addr;
        s.def_pos = Some(pos);
        if !cheap {
            self.new_cheap_area();
        }
        Ok(())
    }

    fn conditional(&mut self, d: &str, c: &mut Cursor) -> LineResult<()> {
        let col = c.col();
        let dcol = c
            .pos
            .checked_sub(1)
            .and_then(|i| c.toks.get(i))
            .map_or(1, |t| t.col);
        let outer = self.active();
        match d {
            "if" | "ifdef" | "ifndef" => {
                let value = if !outer {
                    false
                } else if d == "if" {
                    let e = expr::parse(c, self)?;
                    self.const_value(&e, col)? != 0
                } else {
                    // `::name`: the global symbol (ca65 needs it inside a scope).
                    let scope = if c.eat(Op::ColonColon) { 0 } else { self.scope };
                    let name = match c.bump() {
                        Some(Tok::Ident(n)) => n.clone(),
                        _ => return Err((col, format!(".{d} needs a symbol name"))),
                    };
                    let defined = self
                        .syms
                        .find_any(scope, &name)
                        .is_some_and(|id| self.syms.syms[id as usize].def.is_some());
                    defined == (d == "ifdef")
                };
                let pos = self.at(dcol);
                self.conds.push(Cond {
                    parent_active: outer,
                    active: value,
                    taken: value,
                    seen_else: false,
                    pos,
                });
            }
            "elseif" | "else" => {
                let top = *self
                    .conds
                    .last()
                    .ok_or_else(|| (dcol, format!(".{d} without .if")))?;
                if top.seen_else {
                    return Err((dcol, format!(".{d} after .else")));
                }
                let mut value = !top.taken;
                if d == "elseif" && top.parent_active && !top.taken {
                    let e = expr::parse(c, self)?;
                    value = self.const_value(&e, col)? != 0;
                } else if d == "elseif" {
                    c.pos = c.toks.len();
                }
                let frame = self
                    .conds
                    .last_mut()
                    .ok_or_else(|| (col, "internal: .if stack".to_string()))?;
                frame.active = frame.parent_active && value;
                frame.taken |= value;
                frame.seen_else = d == "else";
            }
            _ => {
                self.conds
                    .pop()
                    .ok_or_else(|| (dcol, ".endif without .if".to_string()))?;
            }
        }
        if outer {
            end(c)?;
        }
        Ok(())
    }
}

/// A line-level failure: a message at a column of this line, or a finished error from an
/// included file.
pub(super) enum LineError {
    Here(u32, String),
    Done(Error),
}

impl From<(u32, String)> for LineError {
    fn from((col, m): (u32, String)) -> Self {
        LineError::Here(col, m)
    }
}

pub(super) fn end(c: &Cursor) -> LineResult<()> {
    if c.at_end() {
        Ok(())
    } else {
        Err((c.col(), "unexpected tokens at end of line".into()))
    }
}

pub(super) fn string_arg(c: &mut Cursor) -> LineResult<String> {
    let col = c.col();
    match c.bump() {
        Some(Tok::Str(s)) => Ok(String::from_utf8_lossy(s).into_owned()),
        _ => Err((col, "expected a \"string\"".into())),
    }
}
