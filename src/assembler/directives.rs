//! The directives: data (`.byte`, `.word`, `.res`, `.align`, `.incbin` ...), segments,
//! `.include`, scopes, `.assert` and `.macro` definitions.

use super::assemble::{Assembler, Assertion, FixKind, LineResult};
use super::expr::{self, AddrSize, Cursor, Expr, Un};
use super::lexer::{Op, Tok};
use super::parser::{end, string_arg, LineError};

/// Largest segment accepted (16 MiB): no 6502 memory map comes near it, and it bounds memory.
const MAX_SEGMENT: u64 = 16 << 20;

impl Assembler<'_> {
    pub(super) fn directive(
        &mut self,
        d: &str,
        c: &mut Cursor,
        col: u32,
        file: &str,
        depth: u32,
    ) -> std::result::Result<(), LineError> {
        match d {
            "byte" | "byt" | "asciiz" => {
                self.data_list(c, FixKind::Byte, true)?;
                if d == "asciiz" {
                    self.seg().data.push(0);
                }
            }
            "word" | "addr" => self.data_list(c, FixKind::Word, false)?,
            "lobytes" => self.byte_parts(c, &[Un::Lo])?,
            "hibytes" => self.byte_parts(c, &[Un::Hi])?,
            "bankbytes" => self.byte_parts(c, &[Un::Bank])?,
            "dbyt" => self.byte_parts(c, &[Un::Hi, Un::Lo])?,
            "org" => {
                let addr = self.const_arg(c, "address")?;
                if !(0..=0xFFFF).contains(&addr) {
                    return Err(LineError::Here(
                        col,
                        format!(".org address {addr} is not in $0000-$FFFF"),
                    ));
                }
                let at = self.offset();
                self.seg().org = Some((at, addr));
            }
            "reloc" => self.seg().org = None,
            "res" => {
                let count = self.const_arg(c, "count")?;
                let count = u32::try_from(count)
                    .ok()
                    .filter(|&n| u64::from(self.offset()) + u64::from(n) <= MAX_SEGMENT)
                    .ok_or_else(|| {
                        (
                            col,
                            format!(
                                ".res count {count} is negative or grows the segment past 16 MiB"
                            ),
                        )
                    })?;
                if c.eat(Op::Comma) {
                    let fill = self.byte_arg(c)?;
                    let seg = self.seg();
                    seg.data.extend(std::iter::repeat_n(fill, count as usize));
                } else {
                    self.fill_gap(count);
                }
            }
            "align" => {
                let n = self.const_arg(c, "alignment")?;
                if n <= 0 || n > 0x1_0000 || n & (n - 1) != 0 {
                    return Err(LineError::Here(
                        col,
                        format!("alignment {n} is not a power of two up to $10000"),
                    ));
                }
                let off = i64::from(self.offset());
                let pad = ((n - off % n) % n) as u32;
                if c.eat(Op::Comma) {
                    let fill = self.byte_arg(c)?;
                    self.seg()
                        .data
                        .extend(std::iter::repeat_n(fill, pad as usize));
                } else {
                    self.fill_gap(pad);
                }
            }
            "segment" => {
                let name = string_arg(c)?;
                let mut size = None;
                if c.eat(Op::Colon) {
                    let scol = c.col();
                    size = match c.bump() {
                        Some(Tok::Ident(s)) => match s.to_ascii_lowercase().as_str() {
                            "zeropage" | "zp" | "direct" => Some(AddrSize::Zp),
                            "absolute" | "abs" => Some(AddrSize::Abs),
                            other => {
                                return Err(LineError::Here(
                                    scol,
                                    format!("unsupported segment address size '{other}'"),
                                ))
                            }
                        },
                        _ => {
                            return Err(LineError::Here(
                                scol,
                                "expected an address size after ':'".into(),
                            ))
                        }
                    };
                }
                self.cur_seg = self
                    .segment(&name, size)
                    .map_err(|m| LineError::Here(col, m))?;
            }
            "zeropage" | "code" | "rodata" | "data" | "bss" => {
                let name = d.to_ascii_uppercase();
                self.cur_seg = self
                    .segment(&name, None)
                    .map_err(|m| LineError::Here(col, m))?;
            }
            "include" | "incbin" => {
                let name = string_arg(c)?;
                if d == "include" {
                    end(c)?;
                    let at = self.at(col);
                    let saved = self.pos;
                    self.assemble_file(&name, Some(file), depth + 1, at)
                        .map_err(LineError::Done)?;
                    self.pos = saved;
                    return Ok(());
                }
                self.incbin(&name, c, col, file)?;
            }
            "proc" | "scope" => {
                let ncol = c.col();
                let name = match c.bump() {
                    Some(Tok::Ident(n)) => n.clone(),
                    None if d == "scope" => format!("@scope{}", self.syms.scopes.len()),
                    _ => return Err(LineError::Here(ncol, format!(".{d} needs a name"))),
                };
                if d == "proc" {
                    let pc = self.pc_plus(0);
                    self.define(&name, false, pc, ncol)?;
                }
                let scope = self
                    .syms
                    .new_scope(self.scope, &name)
                    .ok_or_else(|| (ncol, format!("scope '{name}' is already defined")))?;
                let kind = if d == "proc" { "proc" } else { "scope" };
                self.blocks.push((self.scope, self.at(col), kind));
                self.scope = scope;
                self.new_cheap_area();
            }
            "endproc" | "endscope" => {
                let want = if d == "endproc" { "proc" } else { "scope" };
                match self.blocks.pop() {
                    Some((outer, _, kind)) if kind == want => self.scope = outer,
                    _ => {
                        return Err(LineError::Here(
                            col,
                            format!(".{d} without matching .{want}"),
                        ))
                    }
                }
                self.new_cheap_area();
            }
            "export" | "exportzp" | "global" | "globalzp" => loop {
                let ncol = c.col();
                match c.bump() {
                    Some(Tok::Ident(n)) => {
                        self.exports.push((n.clone(), self.scope, self.at(ncol)))
                    }
                    _ => return Err(LineError::Here(ncol, format!(".{d} needs symbol names"))),
                }
                if !c.eat(Op::Comma) {
                    break;
                }
            },
            "import" | "importzp" => {
                return Err(LineError::Here(col, format!(".{d} is not supported: this assembler builds one translation unit; .include the file that defines the symbol")));
            }
            "p02" => {}
            "setcpu" => {
                let cpu = string_arg(c)?;
                if cpu != "6502" {
                    return Err(LineError::Here(
                        col,
                        format!("only the 6502 CPU is supported, not '{cpu}'"),
                    ));
                }
            }
            "error" | "fatal" => {
                let msg = string_arg(c).unwrap_or_else(|_| "user error".into());
                return Err(LineError::Here(col, format!(".{d}: {msg}")));
            }
            "warning" | "out" => {
                string_arg(c)?;
            }
            "assert" => self.assertion(c)?,
            "macro" | "mac" => {
                let rest = &c.toks[c.pos..];
                self.start_macro(rest, file, col)?;
                return Ok(());
            }
            "endmacro" | "endmac" => {
                return Err(LineError::Here(col, ".endmacro without .macro".into()));
            }
            other => {
                return Err(LineError::Here(
                    col,
                    format!("unsupported directive '.{other}'"),
                ))
            }
        }
        Ok(end(c)?)
    }

    fn data_list(&mut self, c: &mut Cursor, kind: FixKind, strings: bool) -> LineResult<()> {
        loop {
            let col = c.col();
            match c.peek() {
                Some(Tok::Str(s))
                    if strings && !matches!(c.peek_at(1), Some(Tok::Op(o)) if *o != Op::Comma) =>
                {
                    self.seg().data.extend_from_slice(s);
                    c.pos += 1;
                }
                _ => {
                    let e = expr::parse(c, self)?;
                    self.emit_expr(e, kind, col)?;
                }
            }
            if !c.eat(Op::Comma) {
                return Ok(());
            }
        }
    }

    /// `.lobytes`/`.hibytes`/`.bankbytes` (one byte of each value) and `.dbyt` (big-endian
    /// words): a byte per entry of `parts` for each expression.
    fn byte_parts(&mut self, c: &mut Cursor, parts: &[Un]) -> LineResult<()> {
        loop {
            let col = c.col();
            let e = expr::parse(c, self)?;
            for &op in parts {
                self.emit_expr(Expr::Un(op, Box::new(e.clone())), FixKind::Byte, col)?;
            }
            if !c.eat(Op::Comma) {
                return Ok(());
            }
        }
    }

    fn const_arg(&mut self, c: &mut Cursor, _what: &str) -> LineResult<i64> {
        let col = c.col();
        let e = expr::parse(c, self)?;
        self.const_value(&e, col)
    }

    fn byte_arg(&mut self, c: &mut Cursor) -> LineResult<u8> {
        let col = c.col();
        let v = self.const_arg(c, "fill value")?;
        u8::try_from(v).map_err(|_| {
            (
                col,
                format!("range error: fill value {v} does not fit in a byte (0..255)"),
            )
        })
    }

    /// Reserves `n` bytes that the linker fills with the memory area's fill value.
    fn fill_gap(&mut self, n: u32) {
        let seg = self.seg();
        let start = seg.data.len() as u32;
        seg.data.extend(std::iter::repeat_n(0, n as usize));
        if n > 0 {
            seg.fills.push((start, n));
        }
    }

    fn incbin(&mut self, name: &str, c: &mut Cursor, col: u32, file: &str) -> LineResult<()> {
        let (_, bytes) = self
            .sources
            .resolve(name, Some(file))
            .ok_or_else(|| (col, format!(".incbin file '{name}' not found")))?;
        let len = bytes.len() as i64;
        let start = if c.eat(Op::Comma) {
            self.const_arg(c, "start")?
        } else {
            0
        };
        let size = if c.eat(Op::Comma) {
            self.const_arg(c, "size")?
        } else {
            len - start
        };
        if start < 0 || start > len || size < 0 || start + size > len {
            return Err((
                col,
                format!(".incbin range {start}+{size} is outside '{name}' ({len} bytes)"),
            ));
        }
        let slice = &bytes[start as usize..(start + size) as usize];
        self.seg().data.extend_from_slice(slice);
        Ok(())
    }

    /// `.assert expr, error|warning|lderror|ldwarning[, "message"]` (ca65): kept for the
    /// linker, which evaluates it once every address is known.
    fn assertion(&mut self, c: &mut Cursor) -> LineResult<()> {
        let pos = self.at(c.col());
        let e = expr::parse(c, self)?;
        let scol = c.col();
        c.expect(
            Op::Comma,
            "',' and error or warning after the .assert expression",
        )?;
        let is_error = match c.bump() {
            Some(Tok::Ident(k)) => match k.to_ascii_lowercase().as_str() {
                "error" | "lderror" => true,
                "warning" | "ldwarning" => false,
                other => {
                    return Err((
                        scol,
                        format!(
                            ".assert action '{other}' is not error, warning, lderror or ldwarning"
                        ),
                    ))
                }
            },
            _ => return Err((scol, ".assert needs an action: error or warning".into())),
        };
        let message = if c.eat(Op::Comma) {
            string_arg(c)?
        } else {
            "assertion failed".into()
        };
        self.asserts.push(Assertion {
            expr: e,
            is_error,
            message,
            pos,
        });
        Ok(())
    }
}
