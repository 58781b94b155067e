//! Splitting a line of FamiTracker text into fields, as FamiTracker's importer does: runs of
//! characters between spaces or tabs, or a quoted string (`""` inside it is a quote).

/// A field of a line and the column (1-based, in characters) it starts at.
pub struct Field {
    pub text: String,
    pub column: usize,
}

/// Splits a line into fields: runs of non-blank characters, or quoted strings.
pub fn fields(line: &str) -> std::result::Result<Vec<Field>, (usize, String)> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' || chars[i] == '\t' {
            i += 1;
            continue;
        }
        let column = i + 1;
        let mut text = String::new();
        if chars[i] == '"' {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err((column, "a quoted string is not closed".into())),
                    Some('"') if chars.get(i + 1) == Some(&'"') => {
                        text.push('"');
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some(&c) => {
                        text.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < chars.len() && chars[i] != ' ' && chars[i] != '\t' {
                text.push(chars[i]);
                i += 1;
            }
        }
        out.push(Field { text, column });
    }
    Ok(out)
}
