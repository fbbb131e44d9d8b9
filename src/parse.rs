//! Bytes to an owned [`ParsedMail`]. mail-parser's borrowed types never leave this module, so
//! parsed messages can cross threads freely.
use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use crate::error::ParseError;
use crate::source::{RawMail, SourceRef};

/// Longest text body rapport will score (a human-written email is far shorter).
pub const MAX_TEXT_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mailbox {
    pub name: Option<String>,
    /// Lower-cased address.
    pub address: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    pub name: Option<String>,
    pub content_type: String,
    pub size: usize,
}

/// A calendar part (`text/calendar` or an `.ics` attachment), kept for the accounts report.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CalendarPart {
    pub name: Option<String>,
    pub text: String,
}

/// One message, owned, with everything later stages need.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ParsedMail {
    pub origin: SourceRef,
    pub message_id: Option<String>,
    pub from: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub bcc: Vec<Mailbox>,
    /// Seconds since the Unix epoch, UTC.
    pub date: Option<i64>,
    pub subject: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// The text body as sent (HTML-only mail converted to text). Cleaning starts from here.
    pub body: String,
    pub body_was_html: bool,
    pub attachments: Vec<Attachment>,
    pub calendar: Vec<CalendarPart>,
    /// sha256 of the raw bytes, hex.
    pub content_hash: String,
    pub raw_size: usize,
}

impl ParsedMail {
    /// Everyone the message was sent to.
    pub fn recipients(&self) -> impl Iterator<Item = &Mailbox> {
        self.to.iter().chain(&self.cc).chain(&self.bcc)
    }
}

fn mailboxes(a: Option<&Address<'_>>) -> Vec<Mailbox> {
    let Some(a) = a else { return Vec::new() };
    a.iter()
        .filter_map(|addr| {
            let address = addr.address()?.trim().to_ascii_lowercase();
            if address.is_empty() {
                return None;
            }
            Some(Mailbox {
                name: addr
                    .name()
                    .map(|n| n.trim().trim_matches('"').trim().to_string())
                    .filter(|n| !n.is_empty()),
                address,
            })
        })
        .collect()
}

fn id_list(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// Does this look like mail at all? At least one of the headers every message carries.
fn has_mail_headers(msg: &mail_parser::Message<'_>) -> bool {
    msg.headers().iter().any(|h| {
        matches!(
            h.name().to_ascii_lowercase().as_str(),
            "from" | "to" | "subject" | "date" | "message-id" | "content-type" | "mime-version" | "cc" | "x-from" | "x-to"
        )
    })
}

fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return true;
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x09 || (0x0e..0x20).contains(&b) || b == 0x7f)
        .count();
    control * 20 > head.len()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Parse one raw message.
pub fn parse(raw: &RawMail) -> Result<ParsedMail, ParseError> {
    let origin = raw.origin.clone();
    if raw.bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::EmptyBody { origin });
    }
    if looks_binary(&raw.bytes) {
        return Err(ParseError::NotMail { origin });
    }
    let Some(msg) = MessageParser::default().parse(&raw.bytes[..]) else {
        // mail-parser finds nothing in text without a header block.
        return Err(if std::str::from_utf8(&raw.bytes).is_ok() {
            ParseError::NoHeaders { origin }
        } else {
            ParseError::NotMail { origin }
        });
    };
    if !has_mail_headers(&msg) {
        return Err(ParseError::NoHeaders { origin });
    }

    let mut body_was_html = false;
    let mut body = String::new();
    if msg.text_body_count() > 0 || msg.html_body_count() > 0 {
        // Prefer the text alternative; fall back to HTML converted to text.
        let has_plain = msg.text_bodies().any(|p| matches!(p.body, PartType::Text(_)));
        if has_plain {
            let mut parts = Vec::new();
            for p in msg.text_bodies() {
                if let PartType::Text(t) = &p.body {
                    parts.push(t.as_ref());
                }
            }
            body = parts.join("\n");
        } else if let Some(t) = msg.body_text(0) {
            body_was_html = true;
            body = t.into_owned();
        }
    }
    if body.trim().is_empty() {
        // Broken MIME (a multipart whose closing boundary never comes, say) can leave mail-parser
        // with no body parts at all, only "attachments". The sender's text is then the unnamed
        // text/plain parts; parts whose base64 could not be decoded are left out, not shown raw.
        let parts: Vec<&str> = msg
            .parts
            .iter()
            .filter(|p| p.attachment_name().is_none())
            .filter(|p| p.content_type().is_none_or(|c| c.ctype().eq_ignore_ascii_case("text") && c.subtype().is_none_or(|s| s.eq_ignore_ascii_case("plain"))))
            .filter(|p| !(p.is_encoding_problem && p.content_transfer_encoding().is_some_and(|e| e.eq_ignore_ascii_case("base64"))))
            .filter_map(|p| match &p.body {
                PartType::Text(t) => Some(t.as_ref()),
                _ => None,
            })
            .collect();
        body = parts.join("\n");
    }
    let body = body.replace("\r\n", "\n").replace('\r', "\n");
    if body.len() > MAX_TEXT_BYTES {
        return Err(ParseError::TextTooLong {
            origin,
            len: body.len(),
            limit: MAX_TEXT_BYTES,
        });
    }

    let mut attachments = Vec::new();
    let mut calendar = Vec::new();
    for (i, part) in msg.parts.iter().enumerate() {
        if matches!(part.body, PartType::Multipart(_) | PartType::Message(_)) {
            continue;
        }
        let ctype = part
            .content_type()
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")).to_ascii_lowercase())
            .unwrap_or_else(|| "text/plain".into());
        let name = part.attachment_name().map(str::to_string);
        let is_ics = ctype == "text/calendar"
            || ctype == "application/ics"
            || name
                .as_deref()
                .is_some_and(|n| n.to_ascii_lowercase().ends_with(".ics"));
        if is_ics {
            let text = match &part.body {
                PartType::Text(t) | PartType::Html(t) => t.to_string(),
                PartType::Binary(b) | PartType::InlineBinary(b) => String::from_utf8_lossy(b).into_owned(),
                _ => String::new(),
            };
            calendar.push(CalendarPart {
                name: name.clone(),
                text,
            });
        }
        let is_body = msg.text_body.contains(&(i as u32)) || msg.html_body.contains(&(i as u32));
        if !is_body && (name.is_some() || part.is_content_type("application", "octet-stream") || is_ics) {
            attachments.push(Attachment {
                name,
                content_type: ctype,
                size: part.len(),
            });
        }
    }

    let from = mailboxes(msg.from()).into_iter().next().or_else(|| {
        // Enron-style exports keep only X-From for some messages.
        msg.header_raw("X-From").and_then(|v| {
            let v = v.trim();
            v.contains('@').then(|| Mailbox {
                name: None,
                address: v.to_ascii_lowercase(),
            })
        })
    });

    Ok(ParsedMail {
        origin,
        message_id: msg.message_id().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
        from,
        to: mailboxes(msg.to()),
        cc: mailboxes(msg.cc()),
        bcc: mailboxes(msg.bcc()),
        date: msg.date().map(|d| d.to_timestamp()),
        subject: msg.subject().map(|s| s.trim().to_string()),
        in_reply_to: id_list(msg.in_reply_to()),
        references: id_list(msg.references()),
        body,
        body_was_html,
        attachments,
        calendar,
        content_hash: sha256_hex(&raw.bytes),
        raw_size: raw.bytes.len(),
    })
}

/// A draft given as plain text (`rapport check --text`).
pub fn from_text(label: &str, text: &str) -> ParsedMail {
    let body = text.replace("\r\n", "\n");
    ParsedMail {
        origin: SourceRef::Text { label: label.into() },
        message_id: None,
        from: None,
        to: Vec::new(),
        cc: Vec::new(),
        bcc: Vec::new(),
        date: None,
        subject: None,
        in_reply_to: Vec::new(),
        references: Vec::new(),
        content_hash: sha256_hex(body.as_bytes()),
        raw_size: body.len(),
        body,
        body_was_html: false,
        attachments: Vec::new(),
        calendar: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &[u8]) -> RawMail {
        RawMail {
            origin: SourceRef::Text { label: "t".into() },
            bytes: s.to_vec(),
        }
    }

    #[test]
    fn parses_headers_and_body() {
        let m = parse(&raw(b"From: \"Ann Lee\" <Ann@Example.com>\r\nTo: bob@client.io, Carl <carl@client.io>\r\nSubject: Hi\r\nDate: Tue, 14 Nov 2023 10:00:00 +0000\r\nMessage-ID: <x1@example.com>\r\nIn-Reply-To: <x0@client.io>\r\n\r\nHello Bob.\r\n")).unwrap();
        assert_eq!(m.from.as_ref().unwrap().address, "ann@example.com");
        assert_eq!(m.from.as_ref().unwrap().name.as_deref(), Some("Ann Lee"));
        assert_eq!(m.to.len(), 2);
        assert_eq!(m.date, Some(1699956000));
        assert_eq!(m.message_id.as_deref(), Some("x1@example.com"));
        assert_eq!(m.in_reply_to, vec!["x0@client.io".to_string()]);
        assert_eq!(m.body, "Hello Bob.\n");
    }

    #[test]
    fn binary_garbage_is_not_mail() {
        let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert!(matches!(parse(&raw(&bytes)), Err(ParseError::NotMail { .. })));
    }

    #[test]
    fn text_without_headers_says_to_use_text_mode() {
        let err = parse(&raw(b"just some words I typed\nand more\n")).unwrap_err();
        assert!(err.to_string().contains("--text"), "{err}");
    }

    #[test]
    fn broken_multipart_keeps_the_readable_text_and_drops_undecodable_base64() {
        let m = parse(&raw(b"From: a@b.com\nTo: c@d.com\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"zz\"\n\n--zz\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\nSGkgdGhlcmU=!!@@##\n--zz\nContent-Type: text/plain\n\nSee you soon.\n")).unwrap();
        assert_eq!(m.body, "See you soon.\n");
    }

    #[test]
    fn empty_input_is_an_empty_body() {
        assert!(matches!(parse(&raw(b"  \n")), Err(ParseError::EmptyBody { .. })));
    }
}
