//! Bytes to an owned [`ParsedMail`]. mail-parser's borrowed types never leave this module, so
//! parsed messages can cross threads freely.
use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};

use crate::source::{RawMail, SourceRef};
use crate::text::sha256_hex;

/// Longest text body rapport will score: 1 MiB, some 150,000 words. A human-written email is far
/// shorter; a longer text is generated (a log, a report pasted in), and scoring it sentence by
/// sentence would take minutes for nothing. The whole message may be much larger (attachments):
/// that limit is the source's ([`crate::source::DEFAULT_MAX_MESSAGE_BYTES`]).
pub const MAX_TEXT_BYTES: usize = 1024 * 1024;

/// Turning bytes into a [`crate::parse::ParsedMail`].
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{origin}: this is not an email message (binary data, no mail headers). {}", not_mail_advice(.origin))]
    NotMail { origin: SourceRef },
    #[error("{origin}: no mail headers found. If this is the text of a draft, run `rapport check --text FILE` instead")]
    NoHeaders { origin: SourceRef },
    #[error("{origin}: the message has no text body: nothing to check. Write the draft's text, or check the right file")]
    EmptyBody { origin: SourceRef },
    #[error("{origin}: the text body is {len} bytes long, over the limit of 1 MiB ({limit} bytes) of text that rapport scores in one message: no human-written email is that long, so this is most likely generated text or a pasted log. Check only the part you wrote")]
    TextTooLong {
        origin: SourceRef,
        len: usize,
        limit: usize,
    },
}

/// What to do about bytes that are not mail, by where they came from.
fn not_mail_advice(origin: &SourceRef) -> &'static str {
    match origin {
        SourceRef::Mbox { .. } => "The mbox may be damaged at this message; the other messages are read",
        SourceRef::Imap { .. } => "The server holds something that is not mail under this UID; the other messages are read",
        _ => "Give an .eml file exported from your mail client",
    }
}

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

/// What the headers say about mailing lists and automated mail (RFC 2369, RFC 2919, RFC 3834).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListInfo {
    /// `List-Id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_id: Option<String>,
    /// A `List-Unsubscribe` header is present.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unsubscribe: bool,
    /// `Precedence` (bulk, list, junk), lower-cased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precedence: Option<String>,
    /// `Auto-Submitted` other than `no`, lower-cased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_submitted: Option<String>,
}

impl ListInfo {
    /// Mail from (or to) a list or a machine: not a conversation with a person.
    pub fn is_automated(&self) -> bool {
        self.list_id.is_some()
            || self.unsubscribe
            || self.auto_submitted.is_some()
            || self.precedence.as_deref().is_some_and(|p| matches!(p, "bulk" | "list" | "junk"))
    }

    /// Why, in a few words, for the accounts report's `excluded` section.
    pub fn reason(&self) -> Option<String> {
        if let Some(id) = &self.list_id {
            return Some(format!("mailing list (List-Id {id})"));
        }
        if self.unsubscribe {
            return Some("bulk mail (List-Unsubscribe)".into());
        }
        if let Some(p) = self.precedence.as_deref().filter(|p| matches!(*p, "bulk" | "list" | "junk")) {
            return Some(format!("bulk mail (Precedence: {p})"));
        }
        self.auto_submitted.as_ref().map(|a| format!("automated (Auto-Submitted: {a})"))
    }
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
    pub reply_to: Vec<Mailbox>,
    /// List and automated-mail headers.
    #[serde(default)]
    pub list: ListInfo,
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

    let header = |name: &str| msg.header_raw(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let list = ListInfo {
        list_id: header("List-Id"),
        unsubscribe: header("List-Unsubscribe").is_some(),
        precedence: header("Precedence").map(|p| p.to_ascii_lowercase()),
        auto_submitted: header("Auto-Submitted").map(|a| a.to_ascii_lowercase()).filter(|a| a != "no"),
    };
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
        reply_to: mailboxes(msg.reply_to()),
        list,
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
        reply_to: Vec::new(),
        list: ListInfo::default(),
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
        RawMail::new(SourceRef::Text { label: "t".into() }, s.to_vec())
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
