//! A small CSV reader (RFC 4180: commas, double quotes, doubled quotes inside quotes, CRLF or LF)
//! for the mapping file and the call log. Rows keep their line number for error messages.

/// One record: the line it starts on (1-based) and its fields, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Parse CSV text. Blank lines and lines starting with `#` are skipped. An unterminated quote
/// is an error naming its line.
pub fn parse(text: &str) -> Result<Vec<Record>, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut line = 1;
    let mut start_line = 1;
    let mut chars = text.chars().peekable();
    let mut at_start = true;
    let finish = |fields: &mut Vec<String>, field: &mut String, was_quoted: bool| {
        let f = std::mem::take(field);
        fields.push(if was_quoted { f } else { f.trim().to_string() });
    };
    while let Some(c) = chars.next() {
        if at_start {
            start_line = line;
            at_start = false;
            if c == '#' && fields.is_empty() && field.is_empty() {
                // A comment line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                line += 1;
                at_start = true;
                continue;
            }
        }
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            ',' => {
                finish(&mut fields, &mut field, was_quoted);
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                finish(&mut fields, &mut field, was_quoted);
                was_quoted = false;
                if !(fields.len() == 1 && fields[0].is_empty()) {
                    out.push(Record { line: start_line, fields: std::mem::take(&mut fields) });
                }
                fields.clear();
                line += 1;
                at_start = true;
            }
            c => {
                if !(was_quoted && c.is_whitespace()) {
                    field.push(c);
                }
            }
        }
    }
    if quoted {
        return Err((start_line, "a quoted field is never closed (missing \")".into()));
    }
    if !at_start {
        finish(&mut fields, &mut field, was_quoted);
        if !(fields.len() == 1 && fields[0].is_empty()) {
            out.push(Record { line: start_line, fields });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_comments_and_blank_lines() {
        let r = parse("account,domain\n\n# a comment\n\"Acme, Inc.\", acme.com\r\n\"Say \"\"hi\"\"\",x@y.z\nlast,row").unwrap();
        let rows: Vec<(usize, Vec<&str>)> = r.iter().map(|r| (r.line, r.fields.iter().map(String::as_str).collect())).collect();
        assert_eq!(
            rows,
            vec![
                (1, vec!["account", "domain"]),
                (4, vec!["Acme, Inc.", "acme.com"]),
                (5, vec!["Say \"hi\"", "x@y.z"]),
                (6, vec!["last", "row"]),
            ]
        );
        assert_eq!(parse("a,\"b\nc").unwrap_err().0, 1);
    }
}
