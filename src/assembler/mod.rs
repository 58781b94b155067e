//! A 6502 assembler and linker for the ca65/ld65 subset the NES player uses, so building a
//! ROM needs no external toolchain. Output is byte-identical to ca65 + ld65 (tests compare
//! against them when installed).
//!
//! Supported source subset (ca65 semantics):
//! - comments `;`, labels `name:`, cheap locals `@name:` (a new area starts at every normal
//!   symbol definition, `.proc` and `.endproc`), constants `NAME = expr` / `NAME := expr`;
//! - numbers `$hex`, `%bin`, decimal, `'c'`; `*` is the current PC; expressions with unary
//!   `- + ~ < > ^`, `.lobyte() .hibyte() .bankbyte()`, binary `* / .mod & ^ << >>`, `+ - |`,
//!   comparisons `= <> < > <= >=`, `&& || !`, parentheses, with ca65 precedence;
//! - all 151 official opcodes in every addressing mode; `asl` and `asl a`; `a:`/`z:` prefixes;
//!   zero page versus absolute chosen as ca65 does (a symbol's address size is known when it
//!   was defined earlier: a constant below $100 or a label in a zero-page segment; forward
//!   references get absolute addressing);
//! - `.segment "NAME" [: zeropage|absolute]` (ZEROPAGE is zero page automatically), `.code`,
//!   `.rodata`, `.data`, `.bss`, `.zeropage`; `.byte`/`.byt` (numbers and strings),
//!   `.asciiz`, `.word`/`.addr`, `.dbyt`, `.lobytes`/`.hibytes`/`.bankbytes`,
//!   `.res n[, fill]`, `.align n[, fill]` (relative to the segment start, as ca65),
//!   `.org addr` / `.reloc` (per segment: the following bytes are assembled for `addr` on,
//!   still stored in order in the segment),
//!   `.include "f"`, `.incbin "f"[, start[, size]]`, `.proc`/`.endproc`,
//!   `.scope`/`.endscope`, `name::sym`, `.if`/`.elseif`/`.else`/`.endif` on constants,
//!   `.ifdef`/`.ifndef`, `.error`, `.warning`/`.out` (ignored), `.p02`, `.setcpu "6502"`;
//! - `.export`/`.exportzp`/`.global`/`.globalzp` are accepted as no-ops (one translation
//!   unit), but the named symbols must be defined; `.import` is rejected (use `.include`).
//!
//! - `.macro name params` ... `.endmacro` (see [`macros`]: arguments grouped in braces,
//!   no `.local`), `.assert expr, error|warning[, "message"]` checked at link time;
//! - a cycle listing of the linked program ([`Linked::listing`], [`listing`]): each
//!   instruction's cycles, page crossings worked out where the addresses are known;
//! - not supported (an error says so): `.repeat`, unnamed labels (`:`, `:+`),
//!   `.import`, `.charmap`, 65C02/65816 instructions.
//!
//! Speed: plain-number `.byte` lines (song data) skip the tokenizer; see
//! `benches/assemble.rs`.
//!
//! Linker: see [`link`] for the ld65 config subset.

pub mod assemble;
mod directives;
pub mod expr;
pub mod lexer;
pub mod link;
pub mod link_config;
pub mod listing;
pub mod macros;
pub mod opcodes;
pub mod parser;
pub mod study;
pub mod symbols;

pub use assemble::Object;
pub use link::{Linked, LinkerConfig, Placement};
pub use listing::{Listed, Listing, Walked};

use crate::error::{Error, Result};
use assemble::{Assembler, FixKind};
use expr::AddrSize;
use parser::diag;
use std::collections::BTreeMap;
use std::path::Path;

/// In-memory source files (name -> bytes). `.include` and `.incbin` resolve inside it, first
/// relative to the including file's folder, then as given.
#[derive(Debug, Clone, Default)]
pub struct SourceSet {
    files: BTreeMap<String, Vec<u8>>,
}

impl SourceSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file.
    pub fn insert(&mut self, name: impl Into<String>, contents: impl Into<Vec<u8>>) {
        self.files.insert(normalize(&name.into()), contents.into());
    }

    /// Builder form of [`SourceSet::insert`].
    pub fn with(mut self, name: impl Into<String>, contents: impl Into<Vec<u8>>) -> Self {
        self.insert(name, contents);
        self
    }

    /// A file's contents.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files.get(&normalize(name)).map(Vec::as_slice)
    }

    /// File names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Reads every file under `dir` (recursively), named by their path relative to `dir`.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let mut set = SourceSet::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let entries = std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))?;
            for entry in entries {
                let path = entry.map_err(|e| Error::io(&d, e))?.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path
                        .strip_prefix(dir)
                        .unwrap_or(&path)
                        .to_string_lossy()
                        .replace('\\', "/");
                    set.insert(rel, crate::io::read_file(&path)?);
                }
            }
        }
        Ok(set)
    }

    /// Resolves `name` as included from `from`: the includer's folder first, then as given.
    pub(crate) fn resolve(&self, name: &str, from: Option<&str>) -> Option<(String, &[u8])> {
        if let Some(dir) = from.and_then(|f| f.rsplit_once('/')).map(|(d, _)| d) {
            let joined = normalize(&format!("{dir}/{name}"));
            if let Some(b) = self.files.get(&joined) {
                return Some((joined, b));
            }
        }
        let n = normalize(name);
        self.files.get(&n).map(|b| (n, b.as_slice()))
    }
}

/// Normalizes `a/./b/../c` to `a/c`.
fn normalize(name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in name.split('/') {
        match p {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            _ => parts.push(p),
        }
    }
    parts.join("/")
}

/// Assembles `main` (and what it includes) into an object ready to link.
pub fn assemble(sources: &SourceSet, main: &str) -> Result<Object> {
    let mut a = Assembler::new(sources);
    a.assemble_file(main, None, 0, symbols::Pos::default())?;
    finish(a)
}

fn finish(mut a: Assembler) -> Result<Object> {
    if let Some(m) = &a.recording {
        return Err(diag(
            &a.files,
            m.pos,
            format!(".macro {} without .endmacro", m.name),
        ));
    }
    if let Some(c) = a.conds.last() {
        return Err(diag(&a.files, c.pos, ".if without .endif"));
    }
    if let Some((_, pos, kind)) = a.blocks.last() {
        return Err(diag(&a.files, *pos, format!(".{kind} without .end{kind}")));
    }
    let missing = a.syms.resolve_outer();
    if let Some(&id) = missing.iter().min_by_key(|&&id| {
        let p = a.syms.syms[id as usize].ref_pos.unwrap_or_default();
        (p.file, p.line, p.col)
    }) {
        let s = &a.syms.syms[id as usize];
        let name = if s.cheap {
            format!("@{}", s.name)
        } else {
            s.name.clone()
        };
        return Err(diag(
            &a.files,
            s.ref_pos.unwrap_or_default(),
            format!("symbol '{name}' is undefined"),
        ));
    }
    for (name, scope, pos) in &a.exports {
        let defined = a
            .syms
            .find_any(*scope, name)
            .is_some_and(|id| a.syms.def_of(id).is_some());
        if !defined {
            return Err(diag(
                &a.files,
                *pos,
                format!("exported symbol '{name}' is undefined"),
            ));
        }
    }
    // ca65 checks at the end of assembly that a value's address size fits its field, even
    // when the linker would find the value small enough (`.byte label` is an error).
    for seg in &a.segs {
        for f in &seg.fixups {
            let s = study::study(&f.expr, &a.syms).map_err(|m| diag(&a.files, f.pos, m))?;
            let limit = match f.kind {
                FixKind::Byte => AddrSize::Zp,
                FixKind::Word => AddrSize::Abs,
                FixKind::Branch => continue,
            };
            if !s.is_const() && s.addr > limit {
                let what = if f.kind == FixKind::Byte {
                    "a byte"
                } else {
                    "a word"
                };
                return Err(diag(&a.files, f.pos, format!("range error: an address of size {:?} does not fit in {what} (use < or > to pick a byte)", s.addr)));
            }
        }
    }
    Ok(Object {
        segments: a.segs,
        symbols: a.syms,
        files: a.files,
        asserts: a.asserts,
    })
}

/// Assembles `main` from `sources` and links it with the ld65-style `linker_config`.
pub fn assemble_and_link(sources: &SourceSet, main: &str, linker_config: &str) -> Result<Linked> {
    let cfg = LinkerConfig::parse(linker_config)?;
    let obj = assemble(sources, main)?;
    link::link(&obj, &cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_resolve_relative_to_the_includer() {
        let set = SourceSet::new()
            .with("asm/main.s", "")
            .with("asm/inc/a.s", "")
            .with("top.s", "");
        assert_eq!(
            set.resolve("inc/a.s", Some("asm/main.s")).map(|r| r.0),
            Some("asm/inc/a.s".into())
        );
        assert_eq!(
            set.resolve("../top.s", Some("asm/main.s")).map(|r| r.0),
            Some("top.s".into())
        );
        assert_eq!(
            set.resolve("top.s", Some("asm/main.s")).map(|r| r.0),
            Some("top.s".into())
        );
        assert!(set.resolve("nope.s", Some("asm/main.s")).is_none());
    }

    #[test]
    fn operators_bind_as_in_ca65() {
        const CFG: &str = "MEMORY { ROM: start = $8000, size = $100, file = %O; }
                           SEGMENTS { CODE: load = ROM, type = ro; }";
        // Each line: an expression and its value by ca65's precedence (expr.rs's table).
        let cases = [
            ("2 + 3 * 4", 14),
            ("20 - 3 - 2", 15),
            ("64 / 4 / 2", 8),
            ("1 + 6 .mod 4", 3),
            ("$F0 | $0F & $3C", 0xFC),
            ("$FF ^ $0F << 2 >> 4", 0x3C),
            ("1 .shl 3 + 1", 9),
            ("2 + 3 = 5", 1),
            ("1 + 2 < 3", 0),
            ("-2 + 5", 3),
            ("~$F0 & $FF", 0x0F),
            ("<$1234 + 1", 0x35),
            (">$1234 * 2", 0x24),
            ("^$123456", 0x12),
            ("(2 + 3) * 4", 20),
            ("1 = 1 && 2 > 1", 1),
            ("1 = 0 || 3 <> 3", 0),
        ];
        let body: String = cases.iter().map(|(e, _)| format!(".byte {e}\n")).collect();
        let set = SourceSet::new().with("t.s", format!(".segment \"CODE\"\n{body}"));
        let linked = assemble_and_link(&set, "t.s", CFG).expect("assembles");
        for (i, (e, want)) in cases.iter().enumerate() {
            assert_eq!(linked.image[i], *want, "{e}");
        }
    }
}
