//! NES-MDB's score pickles: Python 2 pickles, protocol 0 (text opcodes), of the tuple
//! `(rate, nsamps, score)` where `score` is a numpy `uint8` array of shape `(N, 4)` (seprsco) or
//! `(N, 4, 3)` (exprsco) rebuilt through `numpy.core.multiarray._reconstruct`.
//!
//! The reader is a small opcode machine for exactly the opcodes such files use (see the Python
//! `pickletools` module for their meaning). It never trusts a claimed size: every value it builds
//! is bounded by the bytes it has read, nesting is limited, and every error names the file and
//! the byte offset. The writer emits the same bytes Python 2's `pickle.dump(obj, f)` wrote for
//! NES-MDB, so an unmodified song round-trips byte for byte.

use crate::error::{Error, Result};
use crate::score::{Cell, Frame, Score, Voice};
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

/// Which NES-MDB score format a pickle holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PickleKind {
    /// Separated score: `uint8[N, 4]`, notes only.
    Seprsco,
    /// Expressive score: `uint8[N, 4, 3]`, (note, velocity, timbre).
    Exprsco,
}

impl PickleKind {
    /// The file-name suffix NES-MDB uses (`.seprsco.pkl`, `.exprsco.pkl`).
    pub fn suffix(self) -> &'static str {
        match self {
            PickleKind::Seprsco => ".seprsco.pkl",
            PickleKind::Exprsco => ".exprsco.pkl",
        }
    }

    /// The kind a file name claims by its suffix, if any.
    pub fn from_file_name(name: &str) -> Option<PickleKind> {
        if name.ends_with(".seprsco.pkl") {
            Some(PickleKind::Seprsco)
        } else if name.ends_with(".exprsco.pkl") {
            Some(PickleKind::Exprsco)
        } else {
            None
        }
    }
}

/// Deepest tuple nesting accepted (NES-MDB files nest 3 deep).
const MAX_DEPTH: usize = 32;
/// Most values on the stack at once (NES-MDB files need about 12).
const MAX_STACK: usize = 1 << 16;

/// A value on the pickle machine's stack.
#[derive(Debug, Clone)]
enum Value {
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
    fn kind(&self) -> &'static str {
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
struct Array {
    shape: Vec<usize>,
    fortran: bool,
    data: Rc<Vec<u8>>,
}

/// The opcode machine's state over one file.
struct Machine<'a> {
    bytes: &'a [u8],
    origin: &'a Path,
    pos: usize,
    stack: Vec<Value>,
    memo: HashMap<u64, Value>,
}

impl<'a> Machine<'a> {
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

    fn run(&mut self) -> Result<Value> {
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
fn decode_string_literal(line: &[u8]) -> std::result::Result<Vec<u8>, (usize, String)> {
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
            b'x' => {
                let hex = body.get(i..i + 2).and_then(|h| {
                    let h = std::str::from_utf8(h).ok()?;
                    u8::from_str_radix(h, 16).ok()
                });
                match hex {
                    Some(v) if body[i].is_ascii_hexdigit() => {
                        i += 2;
                        v
                    }
                    _ => return Err((at, "invalid \\x escape (needs two hex digits)".to_string())),
                }
            }
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

/// The song name a pickle path implies: the file name without `.seprsco.pkl`,
/// `.exprsco.pkl` or `.pkl`.
pub fn song_name(origin: &Path) -> String {
    let file = origin
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    for suffix in [".seprsco.pkl", ".exprsco.pkl", ".pkl"] {
        if let Some(stem) = file.strip_suffix(suffix) {
            return stem.to_string();
        }
    }
    file
}

/// Reads an NES-MDB pickle (seprsco or exprsco, told apart by the array's shape). `origin`
/// names the file in errors and gives the song name.
pub fn read_pickle(bytes: &[u8], origin: &Path) -> Result<Score> {
    let mut m = Machine {
        bytes,
        origin,
        pos: 0,
        stack: Vec::new(),
        memo: HashMap::new(),
    };
    let top = m.run()?;
    let end = m.pos;
    let fail = |what: String| Error::format(origin, format!("pickle: {what}"));
    let Value::Tuple(items, _) = &top else {
        return Err(fail(format!(
            "holds a {}, not the NES-MDB tuple (rate, nsamps, score)",
            top.kind()
        )));
    };
    let [rate, nsamps, array] = &items[..] else {
        return Err(fail(format!(
            "holds a tuple of {} items, not (rate, nsamps, score)",
            items.len()
        )));
    };
    let rate = match rate {
        Value::Float(r) => *r,
        Value::Int(r) => *r as f64,
        other => return Err(fail(format!("rate is a {}, not a number", other.kind()))),
    };
    let nsamps = match nsamps {
        Value::Int(n) if *n >= 0 => *n as u64,
        other => {
            return Err(fail(format!(
                "nsamps is {} {:?}, not a sample count",
                other.kind(),
                other
            )))
        }
    };
    let array = match array {
        Value::Array(Some(a)) => a,
        Value::Array(None) => return Err(fail("score array was never given its data".into())),
        other => {
            return Err(fail(format!(
                "score is a {}, not a numpy array",
                other.kind()
            )))
        }
    };
    let (n, depth) = match array.shape[..] {
        [n, 4] => (n, 1),
        [n, 4, 3] => (n, 3),
        _ => {
            return Err(fail(format!(
                "score shape {:?} is neither (N, 4) (seprsco) nor (N, 4, 3) (exprsco)",
                array.shape
            )))
        }
    };
    let need = n.checked_mul(4 * depth);
    if need != Some(array.data.len()) {
        return Err(fail(format!(
            "score shape {:?} needs {} bytes but its data holds {}",
            array.shape,
            need.map_or("more than usize".to_string(), |b| b.to_string()),
            array.data.len()
        )));
    }
    if !(rate.is_finite() && rate > 0.0) {
        return Err(fail(format!("rate {rate} is not a positive frame rate")));
    }
    let expected = (nsamps as f64 / 44100.0 * rate) as i128;
    if (expected - n as i128).abs() > 1 {
        return Err(fail(format!(
            "{n} frames, but nsamps {nsamps} at {rate} Hz implies {expected}"
        )));
    }
    let data = array.data.as_slice();
    // Byte index of element (frame, voice, field) in C or Fortran order.
    let index = |f: usize, v: usize, k: usize| {
        if array.fortran {
            f + n * (v + 4 * k)
        } else {
            (f * 4 + v) * depth + k
        }
    };
    let mut frames: Vec<Frame> = Vec::with_capacity(n);
    for f in 0..n {
        let mut frame = [Cell::REST; 4];
        for voice in Voice::ALL {
            let v = voice.index();
            let note = data[index(f, v, 0)];
            frame[v] = if depth == 1 {
                Cell::from_note(voice, note)
            } else {
                Cell {
                    note,
                    velocity: data[index(f, v, 1)],
                    timbre: data[index(f, v, 2)],
                }
            };
        }
        frames.push(frame);
    }
    let score = Score {
        name: song_name(origin),
        rate,
        expressive: depth == 3,
        frames,
        source_samples: Some(nsamps),
        loop_frame: None,
    };
    score
        .validate()
        .map_err(|e| Error::format(origin, format!("pickle (ends at byte {end}): {e}")))?;
    Ok(score)
}

/// C's `%.17g`, which Python 2's cPickle writes FLOAT arguments with (`24.0` -> `24`).
fn format_g17(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "nan"
        } else if x > 0.0 {
            "inf"
        } else {
            "-inf"
        }
        .to_string();
    }
    let sci = format!("{x:.16e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if !(-4..17).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa.to_string()), exp.abs())
    } else {
        let decimals = (16 - exp).max(0) as usize;
        trim(format!("{x:.decimals$}"))
    }
}

/// Appends Python 2's `repr(bytes)` (the STRING opcode argument).
fn push_python_str_repr(out: &mut Vec<u8>, s: &[u8]) {
    let quote = if s.contains(&b'\'') && !s.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    out.reserve(s.len() * 4 + 2);
    out.push(quote);
    for &c in s {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            c if c == quote => out.extend_from_slice(&[b'\\', c]),
            c if !(0x20..0x7f).contains(&c) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'x',
                    HEX[usize::from(c >> 4)],
                    HEX[usize::from(c & 15)],
                ]);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// The `nsamps` a score is written with: its recorded source length, else the smallest sample
/// count with `int(nsamps / 44100 * rate) == N`.
pub fn nsamps_for(score: &Score) -> u64 {
    if let Some(n) = score.source_samples {
        return n;
    }
    let n = score.len() as f64;
    let mut s = (n / score.rate * 44100.0).ceil().max(0.0) as u64;
    // Float rounding can land one sample off either way; settle on the exact smallest count.
    while s > 0 && ((s - 1) as f64 / 44100.0 * score.rate) as u64 >= score.len() as u64 {
        s -= 1;
    }
    while ((s as f64 / 44100.0 * score.rate) as u64) < score.len() as u64 {
        s += 1;
    }
    s
}

/// Writes `score` as an NES-MDB pickle of `kind`, byte for byte the layout NES-MDB's Python 2
/// code produced. A seprsco keeps only the notes; an exprsco of a non-expressive score carries
/// its default velocities and timbres.
pub fn write_pickle(score: &Score, kind: PickleKind) -> Vec<u8> {
    let depth = match kind {
        PickleKind::Seprsco => 1,
        PickleKind::Exprsco => 3,
    };
    let mut data = Vec::with_capacity(score.len() * 4 * depth);
    for frame in &score.frames {
        for cell in frame {
            data.push(cell.note);
            if depth == 3 {
                data.push(cell.velocity);
                data.push(cell.timbre);
            }
        }
    }
    let mut out = Vec::with_capacity(data.len() * 3 + 256);
    out.extend_from_slice(format!("(F{}\n", format_g17(score.rate)).as_bytes());
    let nsamps = nsamps_for(score);
    if nsamps <= i64::MAX as u64 {
        out.extend_from_slice(format!("I{nsamps}\n").as_bytes());
    } else {
        out.extend_from_slice(format!("L{nsamps}L\n").as_bytes());
    }
    out.extend_from_slice(
        b"cnumpy.core.multiarray\n_reconstruct\np1\n(cnumpy\nndarray\np2\n(I0\ntS'b'\ntRp3\n(I1\n(",
    );
    out.extend_from_slice(format!("I{}\nI4\n", score.len()).as_bytes());
    if depth == 3 {
        out.extend_from_slice(b"I3\n");
    }
    out.extend_from_slice(
        b"tcnumpy\ndtype\np4\n(S'u1'\nI0\nI1\ntRp5\n(I3\nS'|'\nNNNI-1\nI-1\nI0\ntbI00\nS",
    );
    push_python_str_repr(&mut out, &data);
    out.extend_from_slice(b"\ntbtp6\n.");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> &'static Path {
        Path::new("song.seprsco.pkl")
    }

    #[test]
    fn round_trips_synthetic_scores_both_kinds() {
        let mut s = Score::from_notes("song", 24.0, &[[60, 0, 40, 3], [61, 33, 0, 16], [0; 4]]);
        for kind in [PickleKind::Seprsco, PickleKind::Exprsco] {
            let bytes = write_pickle(&s, kind);
            let back = read_pickle(&bytes, origin()).unwrap();
            assert_eq!(back.frames, s.frames);
            assert_eq!(back.expressive, kind == PickleKind::Exprsco);
            assert_eq!(back.source_samples, Some(nsamps_for(&s)));
        }
        s.frames[0][0].velocity = 7;
        s.frames[0][0].timbre = 2;
        let back = read_pickle(&write_pickle(&s, PickleKind::Exprsco), origin()).unwrap();
        assert_eq!(
            back.frames[0][0],
            Cell {
                note: 60,
                velocity: 7,
                timbre: 2
            }
        );
    }

    #[test]
    fn nsamps_gives_back_the_frame_count() {
        for (n, rate) in [
            (0usize, 24.0),
            (1, 24.0),
            (522, 24.0),
            (36424, 24.0),
            (77, 60.0988),
        ] {
            let s = Score::from_notes("x", rate, &vec![[0u8; 4]; n]);
            let ns = nsamps_for(&s);
            assert_eq!(
                (ns as f64 / 44100.0 * rate) as usize,
                n,
                "n={n} rate={rate}"
            );
            if ns > 0 {
                assert!((((ns - 1) as f64 / 44100.0 * rate) as usize) < n);
            }
        }
    }

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

    #[test]
    fn float_format_matches_c_g17() {
        assert_eq!(format_g17(24.0), "24");
        assert_eq!(format_g17(60.0988), "60.098799999999997");
        assert_eq!(format_g17(0.5), "0.5");
        assert_eq!(format_g17(1e-5), "1.0000000000000001e-05");
        assert_eq!(format_g17(1e22), "1e+22");
    }

    #[test]
    fn song_name_strips_format_suffixes() {
        assert_eq!(song_name(Path::new("/a/b/x_1.seprsco.pkl")), "x_1");
        assert_eq!(song_name(Path::new("x.exprsco.pkl")), "x");
        assert_eq!(song_name(Path::new("x.pkl")), "x");
    }
}
