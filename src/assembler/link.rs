//! The linker: an ld65 configuration subset, segment placement, fix-up resolution and the
//! output image, written the way ld65's binary writer does.
//!
//! Supported config: `MEMORY { NAME: start = E, size = E, type = ro|rw, file = %O|"",
//! fill = yes|no, fillval = E; }` and `SEGMENTS { NAME: load = MEM, type = ro|rw|bss|zp,
//! start = E, align = E, optional = yes|no, fillval = E; }`, `#` comments, numbers in
//! `$hex`/`%bin`/decimal with `+ - * /` and parentheses.

use super::assemble::{check_range, FixKind, Object};
use super::expr::{self, SymId};
use super::listing::{Lines, Listed, Listing};
use super::study::MAX_SYMBOL_CHAIN;

/// Largest output image accepted (16 MiB), so a bad config cannot exhaust memory.
const MAX_IMAGE: u64 = 16 << 20;
use super::parser::diag;
use crate::error::{Error, Result};

const CONFIG: &str = "<linker config>";

/// A memory area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    pub name: String,
    pub start: u32,
    pub size: u32,
    pub writable: bool,
    /// True for `file = %O` (written to the image), false for `file = ""`.
    pub output: bool,
    pub fill: bool,
    pub fillval: u8,
}

/// How a segment is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegType {
    Ro,
    Rw,
    Bss,
    Zp,
}

/// A segment rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegRule {
    pub name: String,
    /// Index into [`LinkerConfig::memory`].
    pub load: usize,
    pub kind: SegType,
    pub start: Option<u32>,
    pub align: Option<u32>,
    pub optional: bool,
    pub fillval: Option<u8>,
}

/// A parsed linker configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkerConfig {
    pub memory: Vec<Memory>,
    pub segments: Vec<SegRule>,
}

/// Where the linker put a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub name: String,
    pub memory: String,
    pub start: u32,
    pub size: u32,
}

#[derive(Debug, Clone, PartialEq)]
enum CTok {
    Word(String),
    Num(i64),
    Str(String),
    OutFile,
    Punct(char),
}

fn cerr(line: usize, msg: impl Into<String>) -> Error {
    Error::format(format!("{CONFIG}:{line}"), msg)
}

fn lex_config(text: &str) -> Result<Vec<(CTok, usize)>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c == b'#' {
                break;
            }
            if c.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            let s = i;
            let tok = if c.is_ascii_alphabetic() || c == b'_' {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                CTok::Word(line[s..i].to_string())
            } else if c.is_ascii_digit()
                || c == b'$'
                || (c == b'%' && b.get(i + 1).is_some_and(|d| *d == b'0' || *d == b'1'))
            {
                let radix = match c {
                    b'$' => 16,
                    b'%' => 2,
                    _ => 10,
                };
                if radix != 10 {
                    i += 1;
                }
                let ds = i;
                while i < b.len() && b[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                let v = i64::from_str_radix(&line[ds..i], radix)
                    .map_err(|_| cerr(line_no, format!("malformed number '{}'", &line[s..i])))?;
                CTok::Num(v)
            } else if c == b'"' {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += 1;
                }
                if i >= b.len() {
                    return Err(cerr(line_no, "unterminated string"));
                }
                i += 1;
                CTok::Str(line[s + 1..i - 1].to_string())
            } else if c == b'%' && b.get(i + 1) == Some(&b'O') {
                i += 2;
                CTok::OutFile
            } else if b"{}:;,=+-*/()".contains(&c) {
                i += 1;
                CTok::Punct(c as char)
            } else {
                return Err(cerr(
                    line_no,
                    format!("unexpected character '{}'", c as char),
                ));
            };
            out.push((tok, line_no));
        }
    }
    Ok(out)
}

struct CParser {
    toks: Vec<(CTok, usize)>,
    pos: usize,
}

impl CParser {
    fn line(&self) -> usize {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map_or(1, |t| t.1)
    }
    fn peek(&self) -> Option<&CTok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }
    fn next(&mut self) -> Option<CTok> {
        let t = self.toks.get(self.pos).map(|t| t.0.clone());
        self.pos += 1;
        t
    }
    fn punct(&mut self, p: char) -> Result<()> {
        match self.next() {
            Some(CTok::Punct(c)) if c == p => Ok(()),
            _ => Err(cerr(self.line(), format!("expected '{p}'"))),
        }
    }
    fn word(&mut self) -> Result<String> {
        match self.next() {
            Some(CTok::Word(w)) => Ok(w),
            _ => Err(cerr(self.line(), "expected a name")),
        }
    }
    fn expr(&mut self) -> Result<i64> {
        let mut v = self.term()?;
        while let Some(CTok::Punct(op @ ('+' | '-'))) = self.peek().cloned() {
            self.pos += 1;
            let r = self.term()?;
            v = if op == '+' { v + r } else { v - r };
        }
        Ok(v)
    }
    fn term(&mut self) -> Result<i64> {
        let mut v = self.factor()?;
        while let Some(CTok::Punct(op @ ('*' | '/'))) = self.peek().cloned() {
            self.pos += 1;
            let r = self.factor()?;
            v = if op == '*' {
                v * r
            } else if r == 0 {
                return Err(cerr(self.line(), "division by zero"));
            } else {
                v / r
            };
        }
        Ok(v)
    }
    fn factor(&mut self) -> Result<i64> {
        match self.next() {
            Some(CTok::Num(v)) => Ok(v),
            Some(CTok::Punct('-')) => Ok(-self.factor()?),
            Some(CTok::Punct('(')) => {
                let v = self.expr()?;
                self.punct(')')?;
                Ok(v)
            }
            _ => Err(cerr(self.line(), "expected a number")),
        }
    }
    fn u32_value(&mut self, what: &str) -> Result<u32> {
        let v = self.expr()?;
        u32::try_from(v).map_err(|_| cerr(self.line(), format!("{what} {v} is out of range")))
    }
    fn yes_no(&mut self) -> Result<bool> {
        match self.word()?.to_ascii_lowercase().as_str() {
            "yes" => Ok(true),
            "no" => Ok(false),
            w => Err(cerr(
                self.line(),
                format!("expected yes or no, found '{w}'"),
            )),
        }
    }
    /// Parses `NAME: attr = value ...;` entries until `}`, handing each attribute to `f`.
    fn entries(&mut self, mut f: impl FnMut(&mut CParser, &str, &str) -> Result<()>) -> Result<()> {
        self.punct('{')?;
        loop {
            if self.peek() == Some(&CTok::Punct('}')) {
                self.pos += 1;
                return Ok(());
            }
            let name = self.word()?;
            self.punct(':')?;
            loop {
                match self.peek() {
                    Some(CTok::Punct(';')) => {
                        self.pos += 1;
                        break;
                    }
                    Some(CTok::Punct(',')) => self.pos += 1,
                    _ => {
                        let attr = self.word()?.to_ascii_lowercase();
                        self.punct('=')?;
                        f(self, &name, &attr)?;
                    }
                }
            }
        }
    }
}

impl LinkerConfig {
    /// Parses the supported ld65 configuration subset.
    pub fn parse(text: &str) -> Result<Self> {
        let mut p = CParser {
            toks: lex_config(text)?,
            pos: 0,
        };
        let mut memory: Vec<Memory> = Vec::new();
        let mut raw_segs: Vec<(SegRule, String, usize)> = Vec::new();
        while p.peek().is_some() {
            let section = p.word()?;
            match section.to_ascii_uppercase().as_str() {
                "MEMORY" => p.entries(|p, name, attr| {
                    if memory.last().is_none_or(|m| m.name != name) {
                        if memory.iter().any(|m| m.name == name) {
                            return Err(cerr(
                                p.line(),
                                format!("memory area '{name}' defined twice"),
                            ));
                        }
                        memory.push(Memory {
                            name: name.to_string(),
                            start: 0,
                            size: 0,
                            writable: false,
                            output: true,
                            fill: false,
                            fillval: 0,
                        });
                    }
                    let line = p.line();
                    let m = memory
                        .last_mut()
                        .ok_or_else(|| cerr(line, "internal: no memory area"))?;
                    match attr {
                        "start" => m.start = p.u32_value("start")?,
                        "size" => m.size = p.u32_value("size")?,
                        "type" => {
                            m.writable = match p.word()?.to_ascii_lowercase().as_str() {
                                "ro" => false,
                                "rw" => true,
                                t => {
                                    return Err(cerr(
                                        line,
                                        format!("memory type must be ro or rw, not '{t}'"),
                                    ))
                                }
                            }
                        }
                        "file" => {
                            m.output = match p.next() {
                                Some(CTok::OutFile) => true,
                                Some(CTok::Str(s)) if s.is_empty() => false,
                                _ => {
                                    return Err(cerr(
                                        line,
                                        "only file = %O or file = \"\" are supported",
                                    ))
                                }
                            }
                        }
                        "fill" => m.fill = p.yes_no()?,
                        "fillval" => {
                            m.fillval = u8::try_from(p.expr()?)
                                .map_err(|_| cerr(line, "fillval must be 0..255"))?
                        }
                        a => return Err(cerr(line, format!("unsupported MEMORY attribute '{a}'"))),
                    }
                    Ok(())
                })?,
                "SEGMENTS" => p.entries(|p, name, attr| {
                    if raw_segs.last().is_none_or(|s| s.0.name != name) {
                        if raw_segs.iter().any(|s| s.0.name == name) {
                            return Err(cerr(p.line(), format!("segment '{name}' defined twice")));
                        }
                        let rule = SegRule {
                            name: name.to_string(),
                            load: 0,
                            kind: SegType::Ro,
                            start: None,
                            align: None,
                            optional: false,
                            fillval: None,
                        };
                        raw_segs.push((rule, String::new(), p.line()));
                    }
                    let line = p.line();
                    let s = raw_segs
                        .last_mut()
                        .ok_or_else(|| cerr(line, "internal: no segment"))?;
                    match attr {
                        "load" => s.1 = p.word()?,
                        "type" => {
                            s.0.kind = match p.word()?.to_ascii_lowercase().as_str() {
                                "ro" => SegType::Ro,
                                "rw" => SegType::Rw,
                                "bss" => SegType::Bss,
                                "zp" => SegType::Zp,
                                t => {
                                    return Err(cerr(
                                        line,
                                        format!(
                                            "segment type must be ro, rw, bss or zp, not '{t}'"
                                        ),
                                    ))
                                }
                            }
                        }
                        "start" => s.0.start = Some(p.u32_value("start")?),
                        "align" => {
                            let a = p.u32_value("align")?;
                            if a == 0 {
                                return Err(cerr(line, "align must be at least 1"));
                            }
                            s.0.align = Some(a);
                        }
                        "optional" => s.0.optional = p.yes_no()?,
                        "fillval" => {
                            s.0.fillval = Some(
                                u8::try_from(p.expr()?)
                                    .map_err(|_| cerr(line, "fillval must be 0..255"))?,
                            )
                        }
                        a => {
                            return Err(cerr(line, format!("unsupported SEGMENTS attribute '{a}'")))
                        }
                    }
                    Ok(())
                })?,
                other => {
                    return Err(cerr(
                        p.line(),
                        format!(
                            "unsupported config section '{other}' (supported: MEMORY, SEGMENTS)"
                        ),
                    ))
                }
            }
        }
        let mut segments = Vec::new();
        for (mut rule, load, line) in raw_segs {
            rule.load = memory.iter().position(|m| m.name == load).ok_or_else(|| {
                cerr(
                    line,
                    format!(
                        "segment '{}' loads into unknown memory area '{load}'",
                        rule.name
                    ),
                )
            })?;
            if !memory[rule.load].writable
                && matches!(rule.kind, SegType::Rw | SegType::Bss | SegType::Zp)
            {
                return Err(cerr(
                    line,
                    format!(
                        "cannot put r/w segment '{}' in r/o memory area '{load}'",
                        rule.name
                    ),
                ));
            }
            segments.push(rule);
        }
        let mut total = 0u64;
        for m in &memory {
            if u64::from(m.start) + u64::from(m.size) > MAX_IMAGE {
                return Err(cerr(
                    1,
                    format!("memory area '{}' ends past $FFFFFF", m.name),
                ));
            }
            if m.output && m.fill {
                total += u64::from(m.size);
            }
        }
        if total > MAX_IMAGE {
            return Err(cerr(
                1,
                format!("filled memory areas add up to {total} bytes (limit {MAX_IMAGE})"),
            ));
        }
        Ok(LinkerConfig { memory, segments })
    }
}

/// The linker's result: the output image, symbol values and segment placements.
#[derive(Debug, Clone)]
pub struct Linked {
    /// Concatenation of every `file = %O` memory area, in MEMORY order.
    pub image: Vec<u8>,
    /// Every named symbol (labels and constants; `proc::name` for scoped ones) whose value
    /// fits in 32 bits.
    pub symbols: std::collections::BTreeMap<String, u32>,
    /// Where each configured segment was placed.
    pub segments: Vec<Placement>,
    /// Every instruction with its cycles (see [`Linked::listing`]).
    pub lines: Lines,
    /// Failed `.assert ..., warning` checks, as "file:line:col: message".
    pub warnings: Vec<String>,
}

impl Linked {
    /// The cycle listing.
    pub fn listing(&self) -> Listing<'_> {
        Listing {
            lines: &self.lines,
            symbols: &self.symbols,
        }
    }
}

/// Places the object's segments, resolves fix-ups and writes the image.
pub fn link(obj: &Object, cfg: &LinkerConfig) -> Result<Linked> {
    for seg in &obj.segments {
        if !seg.data.is_empty() && !cfg.segments.iter().any(|r| r.name == seg.name) {
            return Err(Error::Unsupported(format!(
                "segment '{}' ({} bytes) has no SEGMENTS entry in the linker config",
                seg.name,
                seg.data.len()
            )));
        }
    }
    let seg_of = |name: &str| obj.segments.iter().position(|s| s.name == name);
    let mut bases = vec![0i64; obj.segments.len()];
    let mut placements = Vec::new();
    for (mi, mem) in cfg.memory.iter().enumerate() {
        let mut addr = mem.start;
        let end = u64::from(mem.start) + u64::from(mem.size);
        for rule in cfg.segments.iter().filter(|r| r.load == mi) {
            let size = seg_of(&rule.name).map_or(0, |i| obj.segments[i].data.len() as u32);
            if let Some(a) = rule.align {
                addr = addr.div_ceil(a).saturating_mul(a);
            }
            if let Some(s) = rule.start {
                if s < addr {
                    return Err(Error::Unsupported(format!("segment '{}' wants start ${s:04X} but memory area '{}' is already used up to ${addr:04X}", rule.name, mem.name)));
                }
                addr = s;
            }
            if u64::from(addr) + u64::from(size) > end {
                return Err(Error::Unsupported(format!(
                    "segment '{}' ({size} bytes at ${addr:04X}) overflows memory area '{}' (${:04X}, {} bytes) by {} bytes",
                    rule.name,
                    mem.name,
                    mem.start,
                    mem.size,
                    u64::from(addr) + u64::from(size) - end
                )));
            }
            if let Some(i) = seg_of(&rule.name) {
                bases[i] = i64::from(addr);
            }
            placements.push(Placement {
                name: rule.name.clone(),
                memory: mem.name.clone(),
                start: addr,
                size,
            });
            addr += size;
        }
    }
    let values = symbol_values(obj, &bases)?;
    let mut contents: Vec<Vec<u8>> = Vec::with_capacity(obj.segments.len());
    for seg in &obj.segments {
        let mut data = seg.data.clone();
        for f in &seg.fixups {
            let v = expr::eval(
                &f.expr,
                &mut |id| Ok(values[id as usize].unwrap_or(0)),
                &|s| bases[s as usize],
            )
            .map_err(|m| diag(&obj.files, f.pos, m))?;
            check_range(f.kind, v).map_err(|m| diag(&obj.files, f.pos, m))?;
            let o = f.offset as usize;
            if let Some(b) = data.get_mut(o) {
                *b = v as u8;
            }
            if f.kind == FixKind::Word {
                if let Some(b) = data.get_mut(o + 1) {
                    *b = (v >> 8) as u8;
                }
            }
        }
        contents.push(data);
    }
    let mut image = Vec::new();
    for (mi, mem) in cfg.memory.iter().enumerate().filter(|(_, m)| m.output) {
        let file_start = image.len();
        let mut addr = mem.start;
        for rule in cfg.segments.iter().filter(|r| r.load == mi) {
            let placed = placements
                .iter()
                .find(|p| p.name == rule.name)
                .map_or(addr, |p| p.start);
            let fillval = rule.fillval.unwrap_or(mem.fillval);
            let writes = matches!(rule.kind, SegType::Ro | SegType::Rw);
            if placed > addr && (writes || mem.fill) {
                image.resize(image.len() + (placed - addr) as usize, mem.fillval);
            }
            addr = placed;
            let Some(si) = seg_of(&rule.name) else {
                continue;
            };
            let data = &contents[si];
            if writes {
                let at = image.len();
                image.extend_from_slice(data);
                for &(start, len) in &obj.segments[si].fills {
                    let (s, e) = (at + start as usize, at + (start + len) as usize);
                    if let Some(r) = image.get_mut(s..e) {
                        r.fill(fillval);
                    }
                }
            } else if mem.fill {
                image.resize(image.len() + data.len(), fillval);
            }
            addr += data.len() as u32;
        }
        if mem.fill {
            image.resize(file_start + mem.size as usize, mem.fillval);
        }
    }
    let mut symbols = std::collections::BTreeMap::new();
    for (id, s) in obj.symbols.syms.iter().enumerate() {
        if s.cheap || s.def.is_none() {
            continue;
        }
        if let Some(v) = values[id].and_then(|v| u32::try_from(v).ok()) {
            symbols.insert(obj.symbols.full_name(id as SymId), v);
        }
    }
    let lines = listing_lines(obj, &bases, &values)?;
    let warnings = check_asserts(obj, &bases, &values)?;
    Ok(Linked {
        image,
        symbols,
        segments: placements,
        lines,
        warnings,
    })
}

/// Evaluates the `.assert`s: a failed error stops the link, a failed warning is returned.
fn check_asserts(obj: &Object, bases: &[i64], values: &[Option<i64>]) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    for a in &obj.asserts {
        let v = expr::eval(
            &a.expr,
            &mut |id| Ok(values[id as usize].unwrap_or(0)),
            &|s| bases[s as usize],
        )
        .map_err(|m| diag(&obj.files, a.pos, m))?;
        if v == 0 {
            let e = diag(&obj.files, a.pos, format!(".assert failed: {}", a.message));
            if a.is_error {
                return Err(e);
            }
            warnings.push(e.to_string());
        }
    }
    Ok(warnings)
}

/// Every instruction at its linked address, with its operand's value where it has one.
fn listing_lines(obj: &Object, bases: &[i64], values: &[Option<i64>]) -> Result<Lines> {
    let mut lines = Lines::new();
    for (si, seg) in obj.segments.iter().enumerate() {
        for ins in &seg.instrs {
            let operand = match &ins.operand {
                Some(e) => Some(
                    expr::eval(e, &mut |id| Ok(values[id as usize].unwrap_or(0)), &|s| {
                        bases[s as usize]
                    })
                    .map_err(|m| diag(&obj.files, ins.pos, m))?,
                ),
                None => None,
            };
            let addr = ins.org_addr.unwrap_or(bases[si] + i64::from(ins.offset));
            let file = obj
                .files
                .get(ins.pos.file as usize)
                .cloned()
                .unwrap_or_default();
            lines.entry(addr as u32).or_insert(Listed {
                addr: addr as u32,
                file,
                line: ins.pos.line,
                mnemonic: ins.mnemonic,
                mode: ins.mode,
                timing: ins.timing,
                operand,
            });
        }
    }
    Ok(lines)
}

/// Evaluates every symbol once segment bases are known.
fn symbol_values(obj: &Object, bases: &[i64]) -> Result<Vec<Option<i64>>> {
    let syms = &obj.symbols;
    let n = syms.syms.len();
    let mut values: Vec<Option<i64>> = vec![None; n];
    let mut state = vec![0u8; n]; // 0 = not visited, 1 = in progress, 2 = done
    fn visit(
        id: usize,
        depth: usize,
        obj: &Object,
        bases: &[i64],
        values: &mut Vec<Option<i64>>,
        state: &mut Vec<u8>,
    ) -> std::result::Result<i64, (usize, String)> {
        let syms = &obj.symbols;
        let t = syms.target(id as SymId) as usize;
        if state[t] == 2 {
            return values[t].ok_or((t, "symbol has no value".into()));
        }
        if state[t] == 1 {
            return Err((t, format!("circular definition of '{}'", syms.syms[t].name)));
        }
        if depth > MAX_SYMBOL_CHAIN {
            return Err((
                t,
                format!("symbol definitions nested deeper than {MAX_SYMBOL_CHAIN}"),
            ));
        }
        state[t] = 1;
        let def = syms.syms[t]
            .def
            .as_ref()
            .ok_or((t, format!("symbol '{}' is undefined", syms.syms[t].name)))?;
        let mut inner_err = None;
        let r = expr::eval(
            def,
            &mut |s| match visit(s as usize, depth + 1, obj, bases, values, state) {
                Ok(v) => Ok(v),
                Err(e) => {
                    let msg = e.1.clone();
                    inner_err = Some(e);
                    Err(msg)
                }
            },
            &|s| bases[s as usize],
        );
        let v = match (r, inner_err) {
            (Ok(v), _) => v,
            (Err(_), Some(e)) => return Err(e),
            (Err(m), None) => return Err((t, m)),
        };
        values[t] = Some(v);
        values[id] = Some(v);
        state[t] = 2;
        Ok(v)
    }
    for id in 0..n {
        let t = syms.target(id as SymId) as usize;
        if syms.syms[t].def.is_none() {
            continue;
        }
        let v = visit(id, 0, obj, bases, &mut values, &mut state).map_err(|(t, m)| {
            let pos = syms.syms[t]
                .def_pos
                .or(syms.syms[t].ref_pos)
                .unwrap_or_default();
            diag(&obj.files, pos, m)
        })?;
        values[id] = Some(v);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_and_attributes() {
        let cfg = LinkerConfig::parse(
            "# comment\nMEMORY { ZP: start = 0, size = $100, type = rw, file = \"\";\n\
             PRG: start = $8000, size = 4 * $1000 - 6, type = ro; }\n\
             SEGMENTS { CODE: load = PRG, type = ro, align = $100, optional = yes, fillval = $EA; }",
        )
        .unwrap();
        assert_eq!(cfg.memory.len(), 2);
        assert!(!cfg.memory[0].output, "file = \"\" is not written");
        assert!(cfg.memory[1].output, "file defaults to %O");
        assert!(!cfg.memory[1].fill);
        assert_eq!(cfg.memory[1].size, 0x3FFA);
        let code = &cfg.segments[0];
        assert_eq!(
            (code.load, code.align, code.optional, code.fillval),
            (1, Some(0x100), true, Some(0xEA))
        );
    }

    #[test]
    fn config_errors_name_the_line() {
        let e = LinkerConfig::parse("MEMORY {\n  M: start = $8000, size = $100, type = ro;\n}\nSEGMENTS {\n  BSS: load = M, type = bss;\n}")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":5") && e.contains("r/w segment 'BSS'"), "{e}");
        let e = LinkerConfig::parse(
            "MEMORY { M: start = $8000 size = $100; }\nSEGMENTS { X: load = M, type = xx; }",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(":2") && e.contains("'xx'"), "{e}");
    }
}
