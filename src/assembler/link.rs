//! The linker: segment placement, fix-up resolution, `.assert` checks, the output image
//! (written the way ld65's binary writer does) and the cycle listing. The ld65 config subset
//! it reads is in [`super::link_config`].

use super::assemble::{check_range, FixKind, Object};
use super::expr::{self, SymId};
pub use super::link_config::{LinkerConfig, Memory, SegRule, SegType};
use super::listing::{Lines, Listed, Listing};
use super::parser::diag;
use super::study::MAX_SYMBOL_CHAIN;
use crate::error::{Error, Result};

/// Where the linker put a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub name: String,
    pub memory: String,
    pub start: u32,
    pub size: u32,
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
