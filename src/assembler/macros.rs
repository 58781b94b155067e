//! `.macro name [param, ...]` ... `.endmacro` (ca65 classic macros): the body's lines are kept
//! as written and assembled where the macro is used, each parameter replaced by the tokens of
//! its argument. An argument that holds commas is grouped in braces (`{music_bank,x}`).
//! Missing arguments are empty. Labels a body defines land in the scope it is used in, so a
//! macro used twice in one scope must be wrapped in `.scope`/`.proc` there (`.local` is not
//! supported; neither are `.exitmacro`, `.paramcount` or nested definitions).

use super::assemble::{Assembler, LineResult};
use super::lexer::{tokenize, Op, Tok, Token};
use super::parser::{diag, LineError};
use super::symbols::Pos;
use crate::error::{Error, Result};

/// Macro expansions nested deeper than this are judged recursive.
const MAX_EXPANSION_DEPTH: u32 = 16;

/// A macro as defined.
#[derive(Debug, Clone)]
pub struct MacroDef {
    pub name: String,
    pub params: Vec<String>,
    /// The body's lines and where they are.
    pub lines: Vec<(String, Pos)>,
    /// The file that defines it (`.include` in the body resolves from there).
    pub file: String,
    pub pos: Pos,
}

impl Assembler<'_> {
    /// `.macro name [param, ...]`: starts recording the body (the tokens after the directive).
    pub(super) fn start_macro(&mut self, toks: &[Token], file: &str, col: u32) -> LineResult<()> {
        if self.expansion_depth > 0 {
            return Err((col, "a macro cannot define a macro".into()));
        }
        let mut it = toks.iter();
        let name = match it.next().map(|t| &t.kind) {
            Some(Tok::Ident(n)) => n.clone(),
            _ => return Err((col, ".macro needs a name".into())),
        };
        if super::opcodes::find(&name).is_some() || self.macros.contains_key(&name) {
            return Err((
                col,
                format!("macro name '{name}' is a mnemonic or already defined"),
            ));
        }
        let mut params = Vec::new();
        while let Some(t) = it.next() {
            match &t.kind {
                Tok::Ident(p) if !params.contains(p) => params.push(p.clone()),
                _ => return Err((t.col, format!("macro '{name}': expected a parameter name"))),
            }
            match it.next().map(|t| &t.kind) {
                None => break,
                Some(Tok::Op(Op::Comma)) => {}
                Some(_) => return Err((t.col, format!("macro '{name}': expected ','"))),
            }
        }
        self.recording = Some(MacroDef {
            name,
            params,
            lines: Vec::new(),
            file: file.to_string(),
            pos: self.at(col),
        });
        Ok(())
    }

    /// While a macro is recorded: keeps `line`, or ends the body at `.endmacro`. Returns false
    /// when nothing is being recorded.
    pub(super) fn record_macro_line(&mut self, line: &str) -> bool {
        let pos = self.pos;
        let Some(def) = self.recording.as_mut() else {
            return false;
        };
        let first = line
            .trim_start()
            .split([' ', '\t', ';'])
            .next()
            .unwrap_or("");
        if first.eq_ignore_ascii_case(".endmacro") || first.eq_ignore_ascii_case(".endmac") {
            if let Some(def) = self.recording.take() {
                self.macros.insert(def.name.clone(), def);
            }
        } else {
            def.lines.push((line.to_string(), pos));
        }
        true
    }

    /// Assembles the body of macro `name` with `args` (the tokens after its name).
    pub(super) fn expand_macro(
        &mut self,
        name: &str,
        args: &[Token],
        depth: u32,
    ) -> std::result::Result<(), LineError> {
        let Some(def) = self.macros.get(name).cloned() else {
            return Err(LineError::Here(1, format!("no macro '{name}'")));
        };
        let col = args.first().map_or(1, |t| t.col);
        let args = split_args(args);
        if args.len() > def.params.len() {
            return Err(LineError::Here(
                col,
                format!(
                    "macro '{name}' takes {} arguments, not {}",
                    def.params.len(),
                    args.len()
                ),
            ));
        }
        if self.expansion_depth >= MAX_EXPANSION_DEPTH {
            return Err(LineError::Here(
                col,
                format!(
                    "macros nested deeper than {MAX_EXPANSION_DEPTH} (does '{name}' use itself?)"
                ),
            ));
        }
        let used_at = self.pos;
        self.expansion_depth += 1;
        let result = self.expand_body(&def, &args, depth);
        self.expansion_depth -= 1;
        self.pos = used_at;
        result.map_err(|e| {
            let file = self
                .files
                .get(used_at.file as usize)
                .map_or("<unknown>", String::as_str);
            LineError::Done(match e {
                Error::Format { path, what } => Error::Format {
                    path,
                    what: format!("{what} (in macro '{name}' used at {file}:{})", used_at.line),
                },
                other => other,
            })
        })
    }

    fn expand_body(&mut self, def: &MacroDef, args: &[Vec<Token>], depth: u32) -> Result<()> {
        for (text, pos) in &def.lines {
            self.pos = *pos;
            let toks =
                tokenize(text).map_err(|(col, m)| diag(&self.files, Pos { col, ..*pos }, m))?;
            let mut out = Vec::with_capacity(toks.len());
            for t in toks {
                let arg = match &t.kind {
                    Tok::Ident(p) => def.params.iter().position(|q| q == p),
                    _ => None,
                };
                match arg {
                    Some(i) => out.extend(args.get(i).into_iter().flatten().map(|a| Token {
                        kind: a.kind.clone(),
                        col: t.col,
                    })),
                    None => out.push(t),
                }
            }
            if out.is_empty() {
                continue;
            }
            let end_col = text.len() as u32 + 1;
            match self.line(&out, end_col, &def.file, depth) {
                Ok(()) => {}
                Err(LineError::Here(col, m)) => {
                    return Err(diag(&self.files, Pos { col, ..*pos }, m))
                }
                Err(LineError::Done(e)) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Splits a macro's arguments at the commas outside parentheses and braces; a braced
/// argument loses its braces.
fn split_args(toks: &[Token]) -> Vec<Vec<Token>> {
    if toks.is_empty() {
        return Vec::new();
    }
    let mut args = vec![Vec::new()];
    let mut depth = 0i32;
    for t in toks {
        match t.kind {
            Tok::Op(Op::Comma) if depth == 0 => {
                args.push(Vec::new());
                continue;
            }
            Tok::Op(Op::LParen | Op::LBrace) => depth += 1,
            Tok::Op(Op::RParen | Op::RBrace) => depth -= 1,
            _ => {}
        }
        if let Some(a) = args.last_mut() {
            a.push(t.clone());
        }
    }
    for a in &mut args {
        let braced = matches!(a.first().map(|t| &t.kind), Some(Tok::Op(Op::LBrace)))
            && matches!(a.last().map(|t| &t.kind), Some(Tok::Op(Op::RBrace)));
        if braced && a.len() >= 2 {
            a.pop();
            a.remove(0);
        }
    }
    args
}
