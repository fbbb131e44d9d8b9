//! Cleaning on real messages: the fixtures under `tests/fixtures/mail/` (one per mail client and
//! encoding), and, when it is there, the Enron sample in `../shared/datasets/enron/maildir/`.
//!
//! Every message goes through the real pipeline (`parse::parse`, then `clean::clean`), and every
//! result is checked for the invariants later stages rely on: segments map byte for byte back to
//! the body, sentences are non-empty, trimmed, in order, inside `text` and inside one segment.
use std::path::{Path, PathBuf};
use std::time::Instant;

use rapport_core::clean::{clean, CleanText};
use rapport_core::parse::{parse, ParsedMail};
use rapport_core::source::{RawMail, SourceRef};

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mail").join(name)
}

fn enron_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/enron/maildir")
}

fn parse_file(path: &Path) -> ParsedMail {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse(&RawMail::new(SourceRef::File { path: path.to_path_buf() }, bytes))
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The invariants of [`CleanText`] on any body; `what` names the message in failures.
fn check_invariants(body: &str, c: &CleanText, what: &str) {
    let mut prev_end = 0;
    let mut prev_orig = 0;
    for (seg, orig) in &c.segments {
        assert!(seg.start < seg.end, "{what}: empty segment {seg:?}");
        assert!(seg.start >= prev_end && *orig >= prev_orig, "{what}: segments out of order");
        assert!(seg.end <= c.text.len() && orig + seg.len() <= body.len(), "{what}: segment out of bounds");
        assert_eq!(&c.text[seg.clone()], &body[*orig..orig + seg.len()], "{what}: segment does not map back");
        prev_end = seg.end;
        prev_orig = orig + seg.len();
    }
    let mut prev = 0;
    for (i, r) in c.sentences.iter().enumerate() {
        assert!(r.start < r.end, "{what}: sentence {i} is empty");
        assert!(r.start >= prev && r.end <= c.text.len(), "{what}: sentence {i} {r:?} out of order or bounds");
        prev = r.end;
        let s = c.sentence(i);
        assert_eq!(s, s.trim(), "{what}: sentence {i} is not trimmed");
        assert!(
            c.segments.iter().any(|(seg, _)| seg.start <= r.start && r.end <= seg.end),
            "{what}: sentence {i} {s:?} spans two segments"
        );
        assert_eq!(&body[c.to_original(r.clone())], s, "{what}: sentence {i} does not map back");
        assert_eq!(c.original_pieces(r.clone()), vec![c.to_original(r.clone())]);
    }
    for line in c.text.lines() {
        assert!(!line.trim_start().starts_with('>'), "{what}: quoted line kept: {line:?}");
    }
    // Lines are kept verbatim (indentation included), but no blank lines or trailing spaces
    // around the text.
    assert_eq!(c.text, c.text.trim_end(), "{what}: text has trailing whitespace");
    assert!(c.text.lines().next().is_none_or(|l| !l.trim().is_empty()), "{what}: text starts with a blank line");
}

/// A fixture, parsed and cleaned, with its invariants checked.
struct Cleaned {
    name: &'static str,
    mail: ParsedMail,
    clean: CleanText,
}

impl Cleaned {
    fn fixture(name: &'static str) -> Self {
        let mail = parse_file(&fixture_path(name));
        let clean = clean(&mail.body);
        check_invariants(&mail.body, &clean, name);
        Cleaned { name, mail, clean }
    }

    fn sentences(&self) -> Vec<&str> {
        (0..self.clean.sentences.len()).map(|i| self.clean.sentence(i)).collect()
    }

    fn assert_sentences(&self, expected: &[&str]) {
        assert_eq!(self.sentences(), expected, "{}: sentences\ntext:\n{}", self.name, self.clean.text);
    }

    /// Each piece is in the cleaned text.
    fn assert_kept(&self, pieces: &[&str]) {
        for p in pieces {
            assert!(self.clean.text.contains(p), "{}: {p:?} should be kept\ntext:\n{}", self.name, self.clean.text);
        }
    }

    /// Each piece is in the body (so the fixture does test it) but not in the cleaned text.
    fn assert_removed(&self, pieces: &[&str]) {
        for p in pieces {
            assert!(self.mail.body.contains(p), "{}: {p:?} is not even in the body", self.name);
            assert!(!self.clean.text.contains(p), "{}: {p:?} should be removed\ntext:\n{}", self.name, self.clean.text);
        }
    }
}

#[test]
fn outlook_reply_drops_original_message_and_signature_block() {
    let m = Cleaned::fixture("outlook-reply.eml");
    m.assert_sentences(&[
        "Hi Ann,",
        "Thank you for flagging this.",
        "You are right: invoice INV-20431 charged the\nMarch delivery twice.",
        "I have issued credit note CN-1187 for $1,240.00, which\nwill show on your next statement.",
        "Sorry for the trouble.",
        "Please let me know if anything else looks off.",
        "Kind regards,",
    ]);
    m.assert_removed(&[
        "-----Original Message-----",
        "From: Ann Lee",
        "frankly it is getting frustrating",
        "Mark Jensen",
        "Accounts Receivable | Northwind Supplies Ltd.",
        "+1 (555) 010-4477",
        "www.northwind-supplies.example",
    ]);
    assert_eq!(m.clean.segments.len(), 1);
    assert_eq!(m.clean.segments[0].1, 0, "the text starts the body");
}

#[test]
fn outlook_reply_with_underscore_separator_and_from_sent_block() {
    let m = Cleaned::fixture("outlook-reply-sent-block.eml");
    assert!(!m.mail.body_was_html, "the text/plain alternative is used");
    m.assert_sentences(&[
        "Dear Ms Lee,",
        "Unfortunately order 55812 will not ship on Friday as promised.",
        "Our\nsupplier delayed the autoclave pouches, and we now expect to dispatch\non Tuesday, Nov. 21.",
        "We can send the gloves and masks tomorrow if a\nsplit delivery helps.",
        "I apologise for the inconvenience.",
        "Best regards,",
    ]);
    m.assert_removed(&[
        "________________________________",
        "Sent: Thursday, November 16, 2023 11:40 AM",
        "Can you confirm that order 55812 ships on Friday?",
        "Priya Raman\nCustomer Service Team Lead",
        "+1 555 010 4410",
    ]);
}

#[test]
fn gmail_reply_with_wrapped_attribution_and_quotes() {
    let m = Cleaned::fixture("gmail-reply.eml");
    m.assert_sentences(&[
        "Hi Ann,",
        "The replacement handpiece went out this morning with UPS, tracking number\n1Z999AA10123456784.",
        "It should reach you by Monday at 10.30 a.m. at the\nlatest.",
        "Could you send the faulty unit back in the same box?",
        "The return label is\ninside.",
        "Cheers,",
    ]);
    m.assert_removed(&[
        "On Fri, Nov 17, 2023 at 8:02 AM Ann Lee",
        "wrote:",
        "> The handpiece you sent last week stopped working",
        "Tom\n",
    ]);
}

#[test]
fn apple_mail_reply_drops_mobile_footer_and_quoted_attribution() {
    let m = Cleaned::fixture("apple-mail-reply.eml");
    m.assert_sentences(&[
        "Hi Ann,",
        "I'm out of the office until Wednesday.",
        "I'll send the 2024 price list as\nsoon as I'm back.",
        "Prices for consumables go up by 3.5% on Jan. 1.",
        "Best,",
    ]);
    m.assert_removed(&["Sent from my iPhone", "> On 20 Nov 2023, at 17:30", "We are planning our budget.", "Lena"]);
}

#[test]
fn apple_mail_forward_keeps_only_the_note_above_it() {
    let m = Cleaned::fixture("apple-mail-forward.eml");
    m.assert_sentences(&[
        "Ann,",
        "Please see the manufacturer's notice below.",
        "Two boxes from lot 4471 went\nto your practice in October; we will replace them free of charge.",
        "Lena",
    ]);
    m.assert_removed(&["Begin forwarded message:", "From: Quality Team", "Stop selling it immediately."]);
}

#[test]
fn gmail_forward_keeps_only_the_note_above_it() {
    let m = Cleaned::fixture("gmail-forward.eml");
    m.assert_sentences(&["Ann, the courier confirmed your slot for Saturday morning.", "See below."]);
    m.assert_removed(&["---------- Forwarded message ---------", "Delivery booked"]);
}

#[test]
fn thunderbird_inline_reply_keeps_answers_between_quotes() {
    let m = Cleaned::fixture("thunderbird-inline-reply.eml");
    m.assert_sentences(&[
        "Yes.",
        "The compressor is covered, including parts and labour.",
        "Within one working day.",
        "For chairs that are out of use we aim for the\nsame day if you call before noon.",
        "Not at the moment, I'm afraid.",
        "We only offer annual billing.",
        "Oliver",
    ]);
    m.assert_removed(&[
        "On 22/11/2023 11:05, Ann Lee wrote:",
        "Does it cover the compressor?",
        "Can we pay quarterly?",
        "-- \n",
        "Service Contracts, Northwind Supplies Ltd.",
    ]);
    // The answers are three pieces of the body, separated by the removed quotes.
    assert_eq!(m.clean.segments.len(), 3, "{:?}", m.clean.segments);
    let pieces = m.clean.original_pieces(0..m.clean.text.len());
    assert_eq!(pieces.len(), 3);
    assert!(m.mail.body[pieces[0].clone()].starts_with("Yes. The compressor"));
    let last = &m.mail.body[pieces[2].clone()];
    assert!(last.starts_with("Not at the moment") && last.ends_with("Oliver"), "{last:?}");
}

#[test]
fn lotus_notes_forwarded_block_is_dropped() {
    let m = Cleaned::fixture("lotus-notes-forward.eml");
    m.assert_sentences(&[
        "Ingrid,",
        "Our scheduler confirmed the April volumes below.",
        "The cashout invoice should \nbe corrected to 45,206 MMBtu at the Zone 3 index; please send a revised \ninvoice when you can.",
        "Thanks,",
    ]);
    m.assert_removed(&["Forwarded by Judy Townsend/HOU/ECT", "Chris Germany@ENRON", "cc: Scott Goodell", "looks wrong to me", "Judy\n"]);
}

#[test]
fn lotus_notes_reply_header_block_is_dropped() {
    let m = Cleaned::fixture("lotus-notes-reply.eml");
    m.assert_sentences(&["Williams sent the revised invoice this morning.", "We are square."]);
    m.assert_removed(&["Chris Germany@ENRON", "05/15/2001 04:47 PM", "Subject: Re: Transco April cashout", "Any news from Williams?"]);
}

#[test]
fn html_only_message_is_cleaned_from_its_text_rendering() {
    let m = Cleaned::fixture("html-only.eml");
    assert!(m.mail.body_was_html);
    m.assert_sentences(&[
        "Hi Ann,",
        "We received your payment of £2,450.00 for invoice INV-20502 today – thank you.",
        "Your account is now fully up to date.",
        "As a small thank-you, we’ve added a 5% discount to your next order of impression materials.",
        "Many thanks,",
    ]);
    // mail-parser renders `<b>From:</b> Ann` as `From:Ann`.
    m.assert_kept(&["Hi Ann,", "£2,450.00", "Many thanks,"]);
    m.assert_removed(&["From:Ann Lee", "Subject:Payment for INV-20502", "we paid INV-20502 by bank transfer", " Mark\n"]);
    assert!(!m.clean.text.contains("MsoNormal") && !m.clean.text.contains('<'), "{}", m.clean.text);
}

#[test]
fn windows_1252_body_is_decoded() {
    let m = Cleaned::fixture("windows-1252-accents.eml");
    m.assert_sentences(&[
        "Bonjour Ann,",
        "Thanks for your order for the staff room.",
        "The espresso machine for your Café corner is back in stock, and we can deliver it on Thursday.",
        "The price is €389 including the déjà-vu loyalty discount, as agreed with Zoë from your front desk.",
        "We’re sorry it took so long.",
        "Best regards,",
    ]);
    m.assert_removed(&["Amélie Durand", "Northwind Supplies – Office & Café"]);
    assert!(!m.clean.text.contains('\u{fffd}'), "no replacement characters");
}

#[test]
fn base64_text_part_is_decoded() {
    let m = Cleaned::fixture("base64-body.eml");
    assert_eq!(m.mail.attachments.len(), 1, "the PDF is an attachment, not body");
    m.assert_sentences(&[
        "Hello Ann,",
        "I'm writing about the delivery of your new dental chair.",
        "The manufacturer has moved the ship date to Dec. 8, so installation will be on Dec. 11 instead of Dec. 4.",
        "I know this is not the news you wanted.",
        "We will lend you a chair until then at no cost.",
        "Our technician, J. Smith, will call you tomorrow to arrange it.",
        "Regards,",
    ]);
    m.assert_removed(&["Grace Kim", "Installations Coordinator"]);
}

#[test]
fn quoted_printable_soft_breaks_and_latin1_are_decoded() {
    let m = Cleaned::fixture("quoted-printable.eml");
    m.assert_sentences(&[
        "Dear Dr Patel,",
        "Your order of the ceramic crowns from our partner lab in Liège has been confirmed.",
        "The lab will send the finished crowns by express courier; they should arrive on Wednesday.",
        "Our résumé of the case notes is attached.",
        "If anything is unclear, please call me on +1 555 010 4401.",
        "Kind regards,",
    ]);
    m.assert_removed(&["Renée Martin", "Lab Services"]);
    assert!(!m.clean.text.contains("=E9") && !m.clean.text.contains("=\n"));
}

#[test]
fn signature_delimiter_cuts_the_signature_and_its_disclaimer() {
    let m = Cleaned::fixture("signature-delimiter.eml");
    m.assert_sentences(&[
        "Hi Ann,",
        "Our records show that invoice INV-20377 ($860.00) is now 45 days overdue.",
        "Could you check with your accounts team and let me know when we can expect\npayment?",
        "If it has already been paid, please ignore this message.",
        "Thanks,",
    ]);
    m.assert_removed(&["\n-- \n", "Sam Porter | Credit Control", "confidential", "Sam\n"]);
}

#[test]
fn legal_disclaimer_and_framed_notice_are_dropped() {
    let m = Cleaned::fixture("legal-disclaimer.eml");
    m.assert_sentences(&[
        "Dear Ms Lee,",
        "Please find attached the renewed supply agreement for 2024.",
        "The terms are\nunchanged except for clause 7.2 (delivery charges), which we discussed on\nthe phone.",
        "Kindly sign and return it by Dec. 15.",
        "Sincerely,",
    ]);
    m.assert_removed(&[
        "designated recipient",
        "delete the original",
        "**********",
        "registered in England",
        "Hannah Cole",
        "Contracts Manager",
    ]);
}

/// Does this body carry an earlier message (a quote or a forward)?
fn has_quoted_block(body: &str) -> bool {
    body.lines().any(|l| {
        let t = l.trim();
        t.starts_with('>')
            || t.contains("Original Message")
            || t.contains("Forwarded by")
            || t.contains("Forwarded message")
            || t.ends_with("wrote:")
    })
}

fn enron_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn enron_sent_mail_cleans_cleanly() {
    let dir = enron_dir();
    if !dir.is_dir() {
        eprintln!("skipping: {} not found (the shared datasets are not checked out)", dir.display());
        return;
    }
    let started = Instant::now();
    let files = enron_files(&dir);
    assert!(files.len() >= 500, "expected the 512-message sample, found {}", files.len());
    let (mut quoted, mut emptied, mut sentences) = (0, 0, 0);
    let mut kept_fractions = Vec::new();
    for path in &files {
        let what = path.strip_prefix(&dir).unwrap().display().to_string();
        let mail = parse_file(path);
        let c = clean(&mail.body);
        check_invariants(&mail.body, &c, &what);
        for marker in ["-----Original Message-----", "Original Message", "Forwarded by"] {
            assert!(!c.text.contains(marker), "{what}: {marker:?} kept\n{}", c.text);
        }
        if has_quoted_block(&mail.body) {
            quoted += 1;
            if c.text.is_empty() {
                emptied += 1;
            }
        }
        sentences += c.sentences.len();
        let total = mail.body.trim().len();
        if total > 0 {
            kept_fractions.push(c.kept_len() as f64 / total as f64);
        }
    }
    let avg = kept_fractions.iter().sum::<f64>() / kept_fractions.len() as f64;
    eprintln!(
        "enron: {} messages in {:.2?}; {quoted} had quoted/forwarded blocks removed ({emptied} of them pure forwards, \
         now empty); {sentences} sentences; average kept fraction {:.1}%",
        files.len(),
        started.elapsed(),
        avg * 100.0
    );
    assert!(quoted >= 100, "only {quoted} messages with quoted blocks: is the sample complete?");
    assert!((0.5..1.0).contains(&avg), "average kept fraction {avg} is implausible");
}

/// A few real messages, inspected by hand, with exactly what must be kept and removed.
#[test]
fn enron_specific_messages() {
    let dir = enron_dir();
    if !dir.is_dir() {
        eprintln!("skipping: {} not found (the shared datasets are not checked out)", dir.display());
        return;
    }
    let cleaned = |rel: &str| -> (ParsedMail, CleanText) {
        let mail = parse_file(&dir.join(rel));
        let c = clean(&mail.body);
        check_invariants(&mail.body, &c, rel);
        (mail, c)
    };
    let sentences = |c: &CleanText| -> Vec<String> { (0..c.sentences.len()).map(|i| c.sentence(i).to_string()).collect() };

    // Outlook reply: the note above `-----Original Message-----` only.
    let (mail, c) = cleaned("bailey-s/sent_items/1.");
    assert!(mail.body.contains("Tom or Veronica,"));
    assert_eq!(
        c.text,
        "Beth,\n\nThought you should be in the loop with regard to this request --see my message below to the Credit folks.\n\nSusan Bailey"
    );

    // Sign-off with an eight-line signature block: the closing line stays, the block goes; and
    // "Deal No. YK1853.1." does not split at "No.".
    let (mail, c) = cleaned("bailey-s/sent_items/4.");
    assert!(mail.body.contains("Senior Legal Specialist"));
    assert_eq!(
        sentences(&c),
        vec![
            "All,",
            "Attached is the template for Annex B & B-1, along with the LC form for the captioned Counterparty's Omnibus Confirmation for Deal No. YK1853.1.",
            "Contact me with any questions.",
            "Regards,",
        ]
    );

    // A long hard-wrapped letter: wrapped lines join, numbered points split, "Sincerely," kept,
    // the name under it dropped.
    let (_, c) = cleaned("allen-p/_sent_mail/116.");
    let s = sentences(&c);
    assert_eq!(s.len(), 20, "{s:#?}");
    assert_eq!(s[0], "Liane,");
    assert_eq!(
        s[1],
        "As we discussed yesterday, I am concerned there has been an attempt to \nmanipulate the  El Paso San Juan monthly index."
    );
    assert_eq!(s[9], "The two key points from this data are as follows:");
    assert!(s[10].starts_with("The high physical prices on the 26th & 27th"), "{}", s[10]);
    assert_eq!(s[19], "Sincerely,");
    assert!(!c.text.contains("Phillip Allen"));

    // A Lotus Notes forward without its "Forwarded by" line (sender name, date, To/cc/Subject):
    // nothing of it is the sender's.
    let (mail, c) = cleaned("blair-l/_sent_mail/5.");
    assert!(mail.body.contains("Transwestern Invoicing"));
    assert_eq!(c.text, "");
    assert!(c.sentences.is_empty());

    // A joke forwarded entirely as `>` quotes, with lines the client re-wrapped without `>`.
    let (mail, c) = cleaned("baughman-d/sent_items/65.");
    assert!(mail.body.contains("\nsex\n"));
    assert_eq!(c.text, "");

    // A forwarded article ending in a `--` delimiter: the copyright line after it goes.
    let (mail, c) = cleaned("allen-p/_sent_mail/557.");
    assert!(mail.body.contains("All content , 2001 The Kansas City Star"));
    assert!(!c.text.contains("All content"));
    assert!(c.text.ends_with("severly@kcstar.com."), "{}", &c.text[c.text.len() - 80..]);
}

// ---- golden files: every mail fixture's cleaned text and sentences ------------------------------

#[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
struct Golden {
    /// What the sender wrote (quotes, signatures and disclaimers removed).
    text: String,
    /// Each sentence's text.
    sentences: Vec<String>,
}

/// Each `tests/fixtures/mail/NAME.eml` has `NAME.clean.json` beside it: the cleaned text and its
/// sentences, as rapport must produce them (mail-parser's `NNN.eml` + `NNN.json` convention).
/// Regenerate after an intended change with `RAPPORT_UPDATE_GOLDEN=1 cargo test -p rapport-core
/// --test clean golden` and review the diff.
#[test]
fn golden_cleaned_text_and_sentences() {
    let dir = fixture_path("");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
    names.sort();
    assert!(names.len() >= 10, "the mail fixtures are missing from {}", dir.display());
    let update = std::env::var_os("RAPPORT_UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for eml in names {
        let c = clean(&parse_file(&eml).body);
        let got = Golden { text: c.text.clone(), sentences: c.sentences.iter().map(|r| c.text[r.clone()].to_string()).collect() };
        let golden = eml.with_extension("clean.json");
        if update {
            std::fs::write(&golden, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
            continue;
        }
        let want: Golden = match std::fs::read_to_string(&golden) {
            Ok(s) => serde_json::from_str(&s).unwrap_or_else(|e| panic!("{}: {e}", golden.display())),
            Err(_) => {
                failures.push(format!("{} has no golden file {}", eml.display(), golden.display()));
                continue;
            }
        };
        if want != got {
            failures.push(format!("{}: cleaned text or sentences changed\n want {want:?}\n  got {got:?}", eml.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
