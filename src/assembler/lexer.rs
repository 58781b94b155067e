//! Splits one source line into ca65 tokens: identifiers, cheap locals (`@name`), directives
//! (`.name`), numbers (`$hex`, `%bin`, decimal, `'c'`), strings and operators. A `;` ends the
//! line. Columns are 1-based character positions so errors can point at the token.

/// One token and the column where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Tok,
    pub col: u32,
}

/// The kinds of token ca65's subset knows.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A plain identifier (symbol, mnemonic, register).
    Ident(String),
    /// A cheap local symbol, without the leading `@`.
    Local(String),
    /// A directive, lower-cased, without the leading `.`.
    Directive(String),
    /// A numeric literal or character constant.
    Int(i64),
    /// A string literal's bytes (ca65 applies no escapes by default).
    Str(Vec<u8>),
    /// An operator or punctuation mark.
    Op(Op),
}

/// Operators and punctuation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Plus,
    Minus,
    Star,
    Slash,
    Amp,
    Pipe,
    Caret,
    Tilde,
    Lt,
    Gt,
    Le,
    Ge,
    Ne,
    Eq,
    Shl,
    Shr,
    AndAnd,
    OrOr,
    Bang,
    LParen,
    RParen,
    Comma,
    Hash,
    Colon,
    ColonColon,
    Assign,
    /// `{` and `}`: group a macro argument that holds commas (`{music_bank,x}`).
    LBrace,
    RBrace,
}

/// Tokenizes `line`. Errors carry the column and a message.
pub fn tokenize(line: &str) -> Result<Vec<Token>, (u32, String)> {
    let bytes = line.as_bytes();
    let mut out = Vec::with_capacity(8);
    let mut i = 0usize;
    while i < bytes.len() {
        let c = bytes[i];
        let col = i as u32 + 1;
        if c == b';' {
            break;
        }
        if c == b' ' || c == b'\t' || c == b'\r' || c == 0x0c {
            i += 1;
            continue;
        }
        let start = i;
        let kind = if is_ident_start(c) || ((c == b'@' || c == b'.') && next_is_ident(bytes, i)) {
            if c == b'@' || c == b'.' {
                i += 1;
            }
            let s = i;
            while i < bytes.len() && is_ident_char(bytes[i]) {
                i += 1;
            }
            let name = &line[s..i];
            match c {
                b'@' => Tok::Local(name.to_string()),
                b'.' => Tok::Directive(name.to_ascii_lowercase()),
                _ => Tok::Ident(name.to_string()),
            }
        } else if c.is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            Tok::Int(parse_digits(&line[start..i], 10, col)?)
        } else if c == b'$'
            || (c == b'%' && i + 1 < bytes.len() && matches!(bytes[i + 1], b'0' | b'1'))
        {
            i += 1;
            let s = i;
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let radix = if c == b'$' { 16 } else { 2 };
            Tok::Int(parse_digits(&line[s..i], radix, col)?)
        } else if c == b'"' {
            i += 1;
            let s = i;
            while i < bytes.len() && bytes[i] != b'"' {
                i += 1;
            }
            if i >= bytes.len() {
                return Err((col, "unterminated string".into()));
            }
            let text = bytes[s..i].to_vec();
            i += 1;
            Tok::Str(text)
        } else if c == b'\'' {
            if i + 2 < bytes.len() && bytes[i + 2] == b'\'' && bytes[i + 1] != b'\'' {
                let v = bytes[i + 1];
                i += 3;
                Tok::Int(i64::from(v))
            } else {
                return Err((col, "malformed character constant (expected 'c')".into()));
            }
        } else {
            let op2 = match (c, bytes.get(i + 1).copied().unwrap_or(0)) {
                (b':', b'=') => Some(Op::Assign),
                (b':', b':') => Some(Op::ColonColon),
                (b'<', b'<') => Some(Op::Shl),
                (b'>', b'>') => Some(Op::Shr),
                (b'<', b'=') => Some(Op::Le),
                (b'>', b'=') => Some(Op::Ge),
                (b'<', b'>') => Some(Op::Ne),
                (b'&', b'&') => Some(Op::AndAnd),
                (b'|', b'|') => Some(Op::OrOr),
                _ => None,
            };
            if let Some(op) = op2 {
                i += 2;
                Tok::Op(op)
            } else {
                let op = match c {
                    b'+' => Op::Plus,
                    b'-' => Op::Minus,
                    b'*' => Op::Star,
                    b'/' => Op::Slash,
                    b'&' => Op::Amp,
                    b'|' => Op::Pipe,
                    b'^' => Op::Caret,
                    b'~' => Op::Tilde,
                    b'<' => Op::Lt,
                    b'>' => Op::Gt,
                    b'=' => Op::Eq,
                    b'!' => Op::Bang,
                    b'(' => Op::LParen,
                    b')' => Op::RParen,
                    b',' => Op::Comma,
                    b'#' => Op::Hash,
                    b':' => Op::Colon,
                    b'{' => Op::LBrace,
                    b'}' => Op::RBrace,
                    _ => {
                        let ch = line[i..].chars().next().unwrap_or('?');
                        return Err((col, format!("unexpected character '{ch}'")));
                    }
                };
                i += 1;
                Tok::Op(op)
            }
        };
        out.push(Token { kind, col });
    }
    Ok(out)
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn next_is_ident(bytes: &[u8], i: usize) -> bool {
    bytes.get(i + 1).is_some_and(|&b| is_ident_start(b))
}

fn parse_digits(digits: &str, radix: u32, col: u32) -> Result<i64, (u32, String)> {
    if digits.is_empty() {
        return Err((col, "number has no digits".into()));
    }
    let v = u64::from_str_radix(digits, radix)
        .map_err(|_| (col, format!("malformed number '{digits}' (radix {radix})")))?;
    if v > u32::MAX as u64 {
        return Err((col, format!("number '{digits}' does not fit in 32 bits")));
    }
    Ok(v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn numbers_strings_and_operators() {
        assert_eq!(
            kinds("lda #$1F ; comment"),
            vec![Tok::Ident("lda".into()), Tok::Op(Op::Hash), Tok::Int(0x1f)]
        );
        assert_eq!(
            kinds(".BYTE %101, 'A', \"hi\""),
            vec![
                Tok::Directive("byte".into()),
                Tok::Int(5),
                Tok::Op(Op::Comma),
                Tok::Int(65),
                Tok::Op(Op::Comma),
                Tok::Str(b"hi".to_vec())
            ]
        );
        assert_eq!(
            kinds("@x: a<<b:=c::d<>"),
            vec![
                Tok::Local("x".into()),
                Tok::Op(Op::Colon),
                Tok::Ident("a".into()),
                Tok::Op(Op::Shl),
                Tok::Ident("b".into()),
                Tok::Op(Op::Assign),
                Tok::Ident("c".into()),
                Tok::Op(Op::ColonColon),
                Tok::Ident("d".into()),
                Tok::Op(Op::Ne)
            ]
        );
    }

    #[test]
    fn bad_tokens_report_columns() {
        assert_eq!(tokenize("  lda $").unwrap_err().0, 7);
        assert_eq!(tokenize("x \"abc").unwrap_err().0, 3);
        assert_eq!(tokenize(" 12g").unwrap_err().0, 2);
        assert!(tokenize("`").is_err());
    }
}
