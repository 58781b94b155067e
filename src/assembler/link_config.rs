//! The ld65 linker configuration subset the linker ([`super::link`]) reads.
//!
//! Supported config: `MEMORY { NAME: start = E, size = E, type = ro|rw, file = %O|"",
//! fill = yes|no, fillval = E; }` and `SEGMENTS { NAME: load = MEM, type = ro|rw|bss|zp,
//! start = E, align = E, optional = yes|no, fillval = E; }`, `#` comments, numbers in
//! `$hex`/`%bin`/decimal with `+ - * /` and parentheses (evaluated by the assembler's
//! expression code).

use super::expr::{self, Cursor, Expr, ExprError, Resolver};
use super::lexer::{Op, Tok, Token};
use crate::error::{Error, Result};

/// Largest output image accepted (16 MiB), so a bad config cannot exhaust memory.
const MAX_IMAGE: u64 = 16 << 20;

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

/// Config expressions hold numbers only: a name in one is an error.
struct NumbersOnly;

impl Resolver for NumbersOnly {
    fn symbol(&mut self, _: &[String], _: bool, col: u32) -> std::result::Result<Expr, ExprError> {
        Err((col, "expected a number".into()))
    }
    fn local(&mut self, _: &str, col: u32) -> std::result::Result<Expr, ExprError> {
        Err((col, "expected a number".into()))
    }
    fn pc(&self) -> Expr {
        // `*` where a number belongs: evaluating it fails with "expected a number".
        Expr::Sym(expr::SymId::MAX)
    }
    fn easy_const(&self, e: &Expr) -> Option<i64> {
        match e {
            Expr::Lit(v) => Some(*v),
            _ => None,
        }
    }
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
    /// An expression of numbers, read and evaluated by the assembler's expression code
    /// ([`expr::parse`], [`expr::eval`]): up to the `,`, `;` or `}` that ends the attribute.
    fn expr(&mut self) -> Result<i64> {
        let line = self.line();
        let mut toks = Vec::new();
        let mut depth = 0u32;
        while let Some(t) = self.peek() {
            let kind = match t {
                CTok::Num(v) => Tok::Int(*v),
                CTok::Punct('(') => {
                    depth += 1;
                    Tok::Op(Op::LParen)
                }
                CTok::Punct(')') if depth > 0 => {
                    depth -= 1;
                    Tok::Op(Op::RParen)
                }
                CTok::Punct('+') => Tok::Op(Op::Plus),
                CTok::Punct('-') => Tok::Op(Op::Minus),
                CTok::Punct('*') => Tok::Op(Op::Star),
                CTok::Punct('/') => Tok::Op(Op::Slash),
                _ => break,
            };
            let col = toks.len() as u32 + 1;
            toks.push(Token { kind, col });
            self.pos += 1;
        }
        let mut c = Cursor::new(&toks, toks.len() as u32 + 1);
        let e = expr::parse(&mut c, &mut NumbersOnly).map_err(|(_, m)| cerr(line, m))?;
        if !c.at_end() {
            return Err(cerr(line, "expected a number"));
        }
        expr::eval(&e, &mut |_| Err("expected a number".into()), &|_| 0).map_err(|m| cerr(line, m))
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

    #[test]
    fn config_expressions_are_the_assemblers() {
        let cfg = LinkerConfig::parse(
            "MEMORY { M: start = $8000 + (2 + 2) * $100, size = -(-$10) / 2 + %100, type = ro; }\nSEGMENTS { }",
        )
        .unwrap();
        assert_eq!((cfg.memory[0].start, cfg.memory[0].size), (0x8400, 12));
        for bad in ["start = foo", "start = 1 / 0", "start = (1", "start = *"] {
            let text = format!("MEMORY {{ M: {bad}, size = 1; }}\nSEGMENTS {{ }}");
            let e = LinkerConfig::parse(&text).unwrap_err().to_string();
            assert!(e.contains(":1"), "{bad}: {e}");
        }
    }
}
