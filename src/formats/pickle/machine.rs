//! The pickle opcode machine: a stack, a memo and the protocol-0 opcodes NES-MDB files use
//! (`pickletools` documents each one). Values are reference-counted so a PUT/GET never copies
//! data, and nesting and stack height are bounded, so no input can make it allocate more than a
//! small multiple of its own size.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

/// Deepest tuple nesting accepted (NES-MDB files nest 3 deep).
const MAX_DEPTH: usize = 32;
/// Most values on the stack at once (NES-MDB files need about 12).
const MAX_STACK: usize = 1 << 16;

/// A value on the pickle machine's stack.
#[derive(Debug, Clone)]
pub(super) enum Value {
    Mark,
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<Vec<u8>>),
    /// Elements and nesting depth.
    Tuple(Rc<Vec<Value>>, usize),
    Global(Rc<(String, String)>),
    /// `numpy.dtype(...)` before or after its BUILD; holds the type string (`u1`).
    Dtype(Rc<Vec<u8>>),
    /// An ndarray: empty until BUILD gives it its state.
    Array(Option<Rc<Array>>),
}

impl Value {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Value::Mark => "mark",
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Tuple(..) => "tuple",
            Value::Global(_) => "global",
            Value::Dtype(_) => "numpy dtype",
            Value::Array(_) => "numpy array",
        }
    }

    fn depth(&self) -> usize {
        match self {
            Value::Tuple(_, d) => *d,
            _ => 0,
        }
    }
}

/// The array a BUILD produced.
#[derive(Debug)]
pub(super) struct Array {
    pub(super) shape: Vec<usize>,
    pub(super) fortran: bool,
    pub(super) data: Rc<Vec<u8>>,
}

/// The opcode machine's state over one file.
pub(super) struct Machine<'a> {
    bytes: &'a [u8],
    origin: &'a Path,
    pub(super) pos: usize,
    stack: Vec<Value>,
    memo: HashMap<u64, Value>,
}

impl<'a> Machine<'a> {
    /// A machine at the start of `bytes`; `origin` names the file in errors.
    pub(super) fn new(bytes: &'a [u8], origin: &'a Path) -> Machine<'a> {
        Machine {
            bytes,
            origin,
            pos: 0,
            stack: Vec::new(),
            memo: HashMap::new(),
        }
    }

    fn err(&self, at: usize, what: impl std::fmt::Display) -> Error {
        Error::format(self.origin, format!("pickle byte {at}: {what}"))
    }

    /// The text up to the next newline (the argument of a text opcode), without the newline.
    fn line(&mut self, op_at: usize, op: &str) -> Result<&'a [u8]> {
        let rest = self.bytes.get(self.pos..).unwrap_or(&[]);
        match rest.iter().position(|&b| b == b'\n') {
            Some(n) => {
                let line = &rest[..n];
                self.pos += n + 1;
                Ok(line)
            }
            None => Err(self.err(
                op_at,
                format!("{op} argument has no end of line (file truncated?)"),
            )),
        }
    }

    fn push(&mut self, at: usize, v: Value) -> Result<()> {
        if self.stack.len() >= MAX_STACK {
            return Err(self.err(at, "stack grows past 65536 values"));
        }
        self.stack.push(v);
        Ok(())
    }

    fn pop(&mut self, at: usize, op: &str) -> Result<Value> {
        match self.stack.pop() {
            Some(Value::Mark) | None => Err(self.err(at, format!("{op} finds an empty stack"))),
            Some(v) => Ok(v),
        }
    }

    /// Pops everything down to the last MARK.
    fn pop_mark(&mut self, at: usize, op: &str) -> Result<Vec<Value>> {
        let mark = self
            .stack
            .iter()
            .rposition(|v| matches!(v, Value::Mark))
            .ok_or_else(|| self.err(at, format!("{op} without a MARK before it")))?;
        let items = self.stack.split_off(mark + 1);
        self.stack.pop();
        Ok(items)
    }

    fn int_arg(&mut self, at: usize, op: &str) -> Result<Value> {
        let line = self.line(at, op)?;
        match line {
            b"00" => return Ok(Value::Bool(false)),
            b"01" => return Ok(Value::Bool(true)),
            _ => {}
        }
        let digits = line.strip_suffix(b"L").unwrap_or(line);
        std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .map(Value::Int)
            .ok_or_else(|| {
                self.err(
                    at,
                    format!(
                        "{op} argument '{}' is not an integer",
                        String::from_utf8_lossy(line)
                    ),
                )
            })
    }

    /// Runs the opcodes up to STOP and returns the value it pops.
    pub(super) fn run(&mut self) -> Result<Value> {
        if self.bytes.is_empty() {
            return Err(Error::format(
                self.origin,
                "empty file (0 bytes), not a pickle",
            ));
        }
        match self.bytes {
            [0x1f, 0x8b, ..] => {
                return Err(self.err(
                    0,
                    "this is gzip data, not a pickle (unpack the archive, or load it as a dataset)",
                ))
            }
            [0x80, p, ..] => {
                return Err(self.err(
                    0,
                    format!("binary pickle protocol {p}; NES-MDB pickles are protocol 0 (text)"),
                ))
            }
            _ => {}
        }
        loop {
            let at = self.pos;
            let Some(&op) = self.bytes.get(at) else {
                return Err(self.err(at, "file ends before the STOP opcode '.' (truncated?)"));
            };
            self.pos += 1;
            match op {
                b'(' => self.push(at, Value::Mark)?,
                b'N' => self.push(at, Value::None)?,
                b')' => self.push(at, Value::Tuple(Rc::new(Vec::new()), 1))?,
                b'I' | b'L' => {
                    let v = self.int_arg(at, if op == b'I' { "INT" } else { "LONG" })?;
                    self.push(at, v)?
                }
                b'F' => {
                    let line = self.line(at, "FLOAT")?;
                    let v = std::str::from_utf8(line)
                        .ok()
                        .and_then(|s| s.parse::<f64>().ok())
                        .ok_or_else(|| {
                            self.err(
                                at,
                                format!(
                                    "FLOAT argument '{}' is not a number",
                                    String::from_utf8_lossy(line)
                                ),
                            )
                        })?;
                    self.push(at, Value::Float(v))?
                }
                b'S' => {
                    let line = self.line(at, "STRING")?;
                    let s = decode_string_literal(line)
                        .map_err(|(off, what)| self.err(at + 1 + off, what))?;
                    self.push(at, Value::Str(Rc::new(s)))?
                }
                b'c' => {
                    let module = self.line(at, "GLOBAL")?;
                    let name = self.line(at, "GLOBAL")?;
                    let g = (
                        String::from_utf8_lossy(module).into_owned(),
                        String::from_utf8_lossy(name).into_owned(),
                    );
                    self.push(at, Value::Global(Rc::new(g)))?
                }
                b't' => {
                    let items = self.pop_mark(at, "TUPLE")?;
                    let depth = 1 + items.iter().map(Value::depth).max().unwrap_or(0);
                    if depth > MAX_DEPTH {
                        return Err(self.err(at, "tuples nest deeper than 32 levels"));
                    }
                    self.push(at, Value::Tuple(Rc::new(items), depth))?
                }
                b'p' => {
                    let key = self.memo_key(at, "PUT")?;
                    let top = match self.stack.last() {
                        Some(Value::Mark) | None => {
                            return Err(self.err(at, "PUT finds an empty stack"))
                        }
                        Some(v) => v.clone(),
                    };
                    self.memo.insert(key, top);
                }
                b'g' => {
                    let key = self.memo_key(at, "GET")?;
                    let v = self
                        .memo
                        .get(&key)
                        .cloned()
                        .ok_or_else(|| self.err(at, format!("GET of memo {key}, never PUT")))?;
                    self.push(at, v)?
                }
                b'R' => {
                    let args = self.pop(at, "REDUCE")?;
                    let callable = self.pop(at, "REDUCE")?;
                    let v = self.reduce(at, callable, args)?;
                    self.push(at, v)?
                }
                b'b' => {
                    let state = self.pop(at, "BUILD")?;
                    let obj = self.pop(at, "BUILD")?;
                    let v = self.build(at, obj, state)?;
                    self.push(at, v)?
                }
                b'.' => {
                    let v = self.pop(at, "STOP")?;
                    if !self.stack.is_empty() {
                        return Err(self.err(at, "STOP leaves values on the stack"));
                    }
                    return Ok(v);
                }
                other => {
                    let shown = if other.is_ascii_graphic() {
                        format!(" '{}'", other as char)
                    } else {
                        String::new()
                    };
                    return Err(self.err(
                        at,
                        format!(
                            "unsupported pickle opcode 0x{other:02x}{shown}; NES-MDB pickles use \
                             protocol-0 opcodes only"
                        ),
                    ));
                }
            }
        }
    }

    fn memo_key(&mut self, at: usize, op: &str) -> Result<u64> {
        let line = self.line(at, op)?;
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| {
                self.err(
                    at,
                    format!(
                        "{op} memo key '{}' is not a number",
                        String::from_utf8_lossy(line)
                    ),
                )
            })
    }

    /// `callable(*args)` for the two callables numpy pickles use.
    fn reduce(&self, at: usize, callable: Value, args: Value) -> Result<Value> {
        let Value::Global(g) = &callable else {
            return Err(self.err(at, format!("REDUCE calls a {}", callable.kind())));
        };
        let Value::Tuple(args, _) = &args else {
            return Err(self.err(at, format!("REDUCE arguments are a {}", args.kind())));
        };
        match (g.0.as_str(), g.1.as_str()) {
            ("numpy.core.multiarray" | "numpy._core.multiarray", "_reconstruct") => {
                match args.first() {
                    Some(Value::Global(sub)) if sub.0 == "numpy" && sub.1 == "ndarray" => {
                        Ok(Value::Array(None))
                    }
                    _ => Err(self.err(at, "_reconstruct of something other than numpy.ndarray")),
                }
            }
            ("numpy", "dtype") => match args.first() {
                Some(Value::Str(t)) => Ok(Value::Dtype(t.clone())),
                _ => Err(self.err(at, "numpy.dtype without a type string")),
            },
            (m, n) => Err(self.err(
                at,
                format!("global {m}.{n} is not one a NES-MDB pickle uses"),
            )),
        }
    }

    /// `obj.__setstate__(state)` for dtypes and arrays.
    fn build(&self, at: usize, obj: Value, state: Value) -> Result<Value> {
        let Value::Tuple(items, _) = &state else {
            return Err(self.err(at, format!("BUILD state is a {}", state.kind())));
        };
        match obj {
            Value::Dtype(t) => Ok(Value::Dtype(t)),
            Value::Array(_) => {
                let [Value::Int(_), Value::Tuple(shape, _), dtype, fortran, data] = &items[..]
                else {
                    return Err(self.err(
                        at,
                        "ndarray state is not (version, shape, dtype, fortran, data)",
                    ));
                };
                let Value::Dtype(t) = dtype else {
                    return Err(self.err(at, format!("ndarray dtype is a {}", dtype.kind())));
                };
                if !matches!(t.as_slice(), b"u1" | b"|u1" | b"B") {
                    return Err(self.err(
                        at,
                        format!(
                            "array dtype '{}' is not uint8 ('u1'); NES-MDB scores are uint8",
                            String::from_utf8_lossy(t)
                        ),
                    ));
                }
                let fortran = match fortran {
                    Value::Bool(b) => *b,
                    Value::Int(i) => *i != 0,
                    other => {
                        return Err(self.err(at, format!("fortran flag is a {}", other.kind())))
                    }
                };
                let Value::Str(data) = data else {
                    return Err(self.err(
                        at,
                        format!("array data is a {}, not raw bytes", data.kind()),
                    ));
                };
                let mut dims = Vec::with_capacity(shape.len());
                for d in shape.iter() {
                    match d {
                        Value::Int(n) if *n >= 0 => dims.push(*n as usize),
                        other => {
                            return Err(self.err(
                                at,
                                format!("array shape holds {} {:?}", other.kind(), other),
                            ))
                        }
                    }
                }
                Ok(Value::Array(Some(Rc::new(Array {
                    shape: dims,
                    fortran,
                    data: data.clone(),
                }))))
            }
            other => Err(self.err(at, format!("BUILD on a {}", other.kind()))),
        }
    }
}

/// Decodes the argument of a STRING opcode: a quoted Python 2 literal with backslash escapes.
/// On error returns the offset within `line` and what is wrong.
pub(super) fn decode_string_literal(line: &[u8]) -> std::result::Result<Vec<u8>, (usize, String)> {
    match line.first() {
        Some(&q @ (b'\'' | b'"')) if line.len() >= 2 && line.last() == Some(&q) => {}
        _ => return Err((0, "STRING argument is not a quoted literal".to_string())),
    }
    let body = &line[1..line.len() - 1];
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        // Fast path: copy the run up to the next backslash in one go.
        let run = body[i..]
            .iter()
            .position(|&b| b == b'\\')
            .unwrap_or(body.len() - i);
        out.extend_from_slice(&body[i..i + run]);
        i += run;
        if i >= body.len() {
            break;
        }
        let at = i + 1;
        let Some(&e) = body.get(i + 1) else {
            return Err((at, "string literal ends in a lone backslash".to_string()));
        };
        i += 2;
        let byte = match e {
            b'\\' => b'\\',
            b'\'' => b'\'',
            b'"' => b'"',
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'a' => 0x07,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'v' => 0x0b,
            b'x' => match (
                body.get(i).and_then(|&h| hex_digit(h)),
                body.get(i + 1).and_then(|&l| hex_digit(l)),
            ) {
                (Some(h), Some(l)) => {
                    i += 2;
                    h << 4 | l
                }
                _ => return Err((at, "invalid \\x escape (needs two hex digits)".to_string())),
            },
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                let mut n = 1;
                while n < 3 {
                    match body.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                            n += 1;
                        }
                        _ => break,
                    }
                }
                (v & 0xff) as u8
            }
            other => {
                return Err((
                    at,
                    format!("unknown escape '\\{}' in string literal", other as char),
                ))
            }
        };
        out.push(byte);
    }
    Ok(out)
}

/// The value of one hex digit.
fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::pickle::write::push_python_str_repr;

    #[test]
    fn string_literal_escapes_and_quotes() {
        let all: Vec<u8> = (0..=255).collect();
        let mut out = Vec::new();
        push_python_str_repr(&mut out, &all);
        assert_eq!(decode_string_literal(&out).unwrap(), all);
        out.clear();
        push_python_str_repr(&mut out, b"it's");
        assert_eq!(out, b"\"it's\"");
        assert_eq!(decode_string_literal(&out).unwrap(), b"it's");
        assert_eq!(decode_string_literal(br"'\101\0'").unwrap(), b"A\0");
        assert!(decode_string_literal(br"'\xZZ'")
            .unwrap_err()
            .1
            .contains("\\x"));
        assert!(decode_string_literal(br"'\q'")
            .unwrap_err()
            .1
            .contains("\\q"));
        assert!(decode_string_literal(b"'abc")
            .unwrap_err()
            .1
            .contains("quoted"));
    }
}
