//! Tests for the rules: each code on sentences that must and must not trip it, the catalogue and
//! its generated docs, and the false-positive rate on real business mail (AESLC / Enron).
use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::findings::Severity;

/// A [`CleanText`] for `text`, split crudely into sentences: at line breaks, and after `.`, `!` or
/// `?` followed by a space. Independent of `clean`, so these tests exercise the rules alone.
pub(super) fn clean_of(text: &str) -> CleanText {
    split(text, true)
}

/// Like [`clean_of`], but line breaks do not end sentences (only `.`, `!`, `?` do), the way a
/// splitter that ignores layout would cut "Hi Bob,\nFine." into one sentence.
fn clean_punct_only(text: &str) -> CleanText {
    split(text, false)
}

fn split(text: &str, lines_end_sentences: bool) -> CleanText {
    let b = text.as_bytes();
    let mut sentences = Vec::new();
    let mut push = |from: usize, to: usize| {
        let piece = &text[from..to];
        let lead = piece.len() - piece.trim_start().len();
        let trimmed = piece.trim();
        if !trimmed.is_empty() {
            sentences.push(from + lead..from + lead + trimmed.len());
        }
    };
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'\n' if lines_end_sentences => {
                push(start, i);
                start = i + 1;
                i += 1;
            }
            b'.' | b'!' | b'?' => {
                let mut j = i;
                while j < b.len() && matches!(b[j], b'.' | b'!' | b'?') {
                    j += 1;
                }
                if j == b.len() || b[j].is_ascii_whitespace() {
                    push(start, j);
                    start = j;
                }
                i = j;
            }
            _ => i += 1,
        }
    }
    push(start, b.len());
    CleanText { text: text.to_string(), sentences, segments: vec![(0..text.len(), 0)] }
}

fn check(text: &str) -> Vec<Finding> {
    let clean = clean_of(text);
    let found = check_rules(&clean);
    assert_well_formed(&clean, &found);
    found
}

/// The findings of one code, as (severity, flagged text).
fn hits(text: &str, code: &str) -> Vec<(Severity, String)> {
    check(text)
        .into_iter()
        .filter(|f| f.code == code)
        .map(|f| (f.severity, text[f.span.clone()].to_string()))
        .collect()
}

fn flagged(text: &str, code: &str) -> bool {
    !hits(text, code).is_empty()
}

/// Spans lie in the text on character boundaries, inside the sentence they name; findings are
/// sorted; every code is in the catalogue with the same name; messages are one line.
fn assert_well_formed(clean: &CleanText, found: &[Finding]) {
    for f in found {
        assert!(clean.text.get(f.span.clone()).is_some_and(|s| !s.is_empty()), "bad span {f:?}");
        let s = &clean.sentences[f.sentence];
        assert!(s.start <= f.span.start && f.span.start < s.end, "span outside its sentence: {f:?}");
        let rule = explain(f.code).expect("code in catalogue");
        assert_eq!(rule.name, f.name);
        assert!(!f.message.contains('\n') && !f.message.is_empty(), "{f:?}");
        assert!(f.suggestion.as_deref().is_some_and(|s| !s.is_empty()), "{f:?}");
    }
    assert!(
        found.windows(2).all(|w| (w[0].span.start, w[0].code) <= (w[1].span.start, w[1].code)),
        "findings not sorted: {found:?}"
    );
}

// ---- R101 shouting -------------------------------------------------------------------------------

#[test]
fn r101_flags_capitals() {
    assert_eq!(
        hits("Hi Ann,\nPLEASE SEND the contract by Friday.", "R101"),
        vec![(Severity::Warning, "PLEASE SEND".to_string())]
    );
    assert_eq!(
        hits("The refund will NEVER be processed without the form.", "R101"),
        vec![(Severity::Warning, "NEVER".to_string())]
    );
    // An acronym next to shouted words is part of the run.
    assert_eq!(hits("I need it DONE ASAP please.", "R101"), vec![(Severity::Warning, "DONE ASAP".to_string())]);
    // Two short words together.
    assert_eq!(hits("We are NOT OK with this.", "R101"), vec![(Severity::Warning, "NOT OK".to_string())]);
}

#[test]
fn r101_whole_sentence_is_an_error() {
    let text = "Thanks for the update.\nTHIS IS THE LAST TIME WE EXTEND THE DEADLINE.";
    let h = hits(text, "R101");
    assert_eq!(h, vec![(Severity::Error, "THIS IS THE LAST TIME WE EXTEND THE DEADLINE.".to_string())]);
    // Three words in capitals are a run, not a whole-sentence error.
    assert_eq!(hits("CALL ME NOW.", "R101"), vec![(Severity::Warning, "CALL ME NOW".to_string())]);
}

#[test]
fn r101_leaves_acronyms_alone() {
    for ok in [
        "The PDF is attached.",
        "Please confirm the PO number and the ETA by EOD.",
        "Our CEO and the VP of HR will join the call at 3pm EST.",
        "The Q3 numbers for the EU and the UK are in the KPI sheet.",
        "FYI the NDA and the SLA are in the shared folder.",
        "Prices are in USD, not EUR.",
        "I think the NYMEX settle was higher today.",
        "The NGPL capacity release is done.",
        "Ask AT&T about the U.S. invoice.",
        "I am in the office.",
        "Send it to A. Smith.",
        "The KPIs and SKUs are listed.",
        "PAYMENT TERMS: 30 days net.",
        "NOTE: the office is closed on Monday.",
        "Please see the note from HOU/ECT and (TURN) below.",
        "The DASH for the CGAS deal is attached.",
    ] {
        assert!(!flagged(ok, "R101"), "flagged: {ok}");
    }
}

// ---- R102 piled-punctuation ----------------------------------------------------------------------

#[test]
fn r102_flags_piles() {
    assert_eq!(hits("Did you get the contract??", "R102"), vec![(Severity::Warning, "??".to_string())]);
    assert_eq!(hits("You still haven't paid?!", "R102"), vec![(Severity::Warning, "?!".to_string())]);
    assert_eq!(hits("That's great news!!!", "R102"), vec![(Severity::Warning, "!!!".to_string())]);
    assert!(!flagged("Did you get the contract? Great!", "R102"));
    assert!(!flagged("Wait... what do you mean?", "R102"));
}

#[test]
fn r102_many_exclamations_is_info() {
    let text = "Hi Bob!\nThe order shipped! It arrives Monday! The tracking link is below! Let me know what you think.\nThanks!";
    let h = hits(text, "R102");
    assert_eq!(h, vec![(Severity::Info, "!".to_string())]);
    // Greeting and sign-off exclamations do not count.
    assert!(!flagged("Hi Bob!\nThe order shipped! It arrives Monday.\nThanks!", "R102"));
}

// ---- R103 curt-reply -----------------------------------------------------------------------------

#[test]
fn r103_flags_curt_replies() {
    for curt in [
        "Fine.",
        "Noted.",
        "Whatever works.",
        "OK.",
        "Sure.",
        "As you wish.",
        "If you say so.",
        "K.",
        "Done.",
        "Hi Bob,\nFine.\nThanks,\nAnn",
        "Hi Bob,\nNoted.\nAnn",
        "Bob,\nNot my problem.",
        "Will do.",
    ] {
        assert!(flagged(curt, "R103"), "not flagged: {curt:?}");
    }
    // The span is the reply itself, without greeting or sign-off.
    assert_eq!(hits("Hi Bob,\nFine.\nThanks,\nAnn", "R103"), vec![(Severity::Warning, "Fine.".to_string())]);
}

#[test]
fn r103_leaves_warm_or_full_replies_alone() {
    for ok in [
        "Great, thanks!",
        "Sounds good.",
        "Perfect, see you Friday.",
        "Thanks!",
        "Hi Bob,\nThanks so much!\nAnn",
        "Thanks, Bob. Friday works for us and I have booked the room.",
        "Hi Bob,\nYes, Friday at 10 works for us. I'll send an invite.\nAnn",
        "<<Q3 forecast.xls>>",
        "https://example.com/invoice/123",
        "Ann Smith",
    ] {
        assert!(!flagged(ok, "R103"), "flagged: {ok:?}");
    }
}

// ---- R104 passive-aggressive ---------------------------------------------------------------------

#[test]
fn r104_flags_stock_phrases() {
    let cases = [
        ("Per my last email, the discount has ended.", "Per my last email"),
        ("As per my previous email, we ship on Monday.", "As per my previous email"),
        ("As previously stated, the fee is non-refundable.", "As previously stated"),
        ("As I said before, we need the form.", "As I said before"),
        ("As I mentioned, the office is closed on Friday.", "As I mentioned"),
        ("As already mentioned, the price includes VAT.", "As already mentioned"),
        ("Going forward, please copy me on these.", "Going forward, please"),
        ("Just a friendly reminder that the invoice is overdue.", "friendly reminder"),
        ("Just to be clear, we do not offer refunds.", "Just to be clear"),
        ("Not sure if you saw my message from Monday.", "Not sure if you saw"),
        ("Kindly send the documents.", "Kindly"),
        ("I'll wait.", "I'll wait"),
        ("With all due respect, that is not what we agreed.", "With all due respect"),
        ("As you should know, the terms are on the website.", "As you should know"),
        ("For the third time, the account number is wrong.", "For the third time"),
        ("Again, the deadline is Friday.", "Again"),
        ("It's not rocket science.", "It's not rocket science"),
        ("No offense, but the report is late.", "No offense, but"),
        ("As I’ve already said, the form is on our site.", "As I’ve already said"),
        ("As I mentioned in my last email, the price went up.", "As I mentioned"),
        ("Like I said, we can't.", "Like I said"),
    ];
    for (text, phrase) in cases {
        let h = hits(text, "R104");
        assert_eq!(h, vec![(Severity::Warning, phrase.to_string())], "{text}");
    }
    // Common enough in business English to be information only.
    assert_eq!(
        hits("Thanks in advance for your help.", "R104"),
        vec![(Severity::Info, "Thanks in advance".to_string())]
    );
    assert_eq!(hits("Please advise.", "R104"), vec![(Severity::Info, "Please advise".to_string())]);
}

#[test]
fn r104_leaves_ordinary_wording_alone() {
    for ok in [
        "I'll wait for your call before I book the room.",
        "We tried again, and it worked.",
        "Once again, thank you for your patience.",
        "The paper is about rocket science.",
        "Tia will join the meeting.",
        "We mentioned it to the board.",
        "As agreed, the contract is attached.",
        "As I mentioned to Dee, the agreement is due on Tuesday.",
        "As I mentioned in my voice mail, the rate is fixed.",
        "As I mentioned on the phone, we can deliver on Monday.",
        "As I said in my voice mail, I'd be glad to help.",
        "Again, thanks for all your help.",
        "Again, I'm sorry for the confusion.",
    ] {
        assert!(!flagged(ok, "R104"), "flagged: {ok}");
    }
}

// ---- R105 unsoftened-demand ----------------------------------------------------------------------

#[test]
fn r105_flags_bare_demands() {
    let cases = [
        ("Send the invoice.", "Send"),
        ("Send the invoice ASAP.", "Send the invoice ASAP"),
        ("I need this ASAP.", "ASAP"),
        ("You need to sign the form today.", "You need to sign"),
        ("You must reply by Friday.", "You must reply"),
        ("I need you to call me.", "I need you to call"),
        ("Please note the price. You need to pay it by Friday.", "You need to pay"),
        ("The form is wrong and you need to redo it.", "you need to"),
        ("I need you to be at the gate by 5.", "I need you to"),
        ("Fix the address on the label.", "Fix"),
        ("Hi Bob, call me when you land.", "call"),
        ("And stop sending me reminders.", "And stop"),
        ("Just confirm the date.", "Just confirm"),
        ("We need the payment immediately.", "immediately"),
        ("Pay the balance right now.", "Pay the balance right now"),
        ("You have to return the device within 30 days.", "You have to return"),
        ("- Submit the form by Monday.", "Submit"),
        ("Make the change today.", "Make"),
        ("Do it now.", "Do"),
        // "Kindly" is not a softener (and is flagged by R104 too).
        ("Kindly send the documents.", "Kindly send"),
    ];
    for (text, span) in cases {
        let h = hits(text, "R105");
        assert_eq!(h, vec![(Severity::Warning, span.to_string())], "{text}");
    }
}

#[test]
fn r105_leaves_softened_and_non_demands_alone() {
    for ok in [
        "Please send the invoice.",
        "Could you send the invoice?",
        "Send the invoice when you get a chance, thanks.",
        "Would you mind sending the invoice?",
        "Send it over if possible.",
        "I'd appreciate it if you could sign the form.",
        "Call me if you have any questions.",
        "Give me a call with any questions.",
        "Do let me know if the date works.",
        "Do not hesitate to contact me.",
        "Call center hours are 9 to 5.",
        "Update on your order: it shipped today.",
        "Change of plans: we meet at 3.",
        "Check out our new catalogue.",
        "Get well soon!",
        "I'll send it ASAP.",
        "We will call you right away.",
        "Let's meet ASAP to discuss.",
        "If you need to reach me, my cell is 555-0100.",
        "In case I'm out and you have to get something signed, ask Louise.",
        "All you need to do is sign page 3.",
        "To reset your password, you need to click the link.",
        "You must be busy with the launch.",
        "You must have missed my note.",
        "The new prices are effective immediately.",
        "I'm on a call right now.",
        "The team is working on it right now.",
        "Do you have to leave early?",
        "The PDF is attached.",
        "Give my best to the team.",
        "Make sure to bring your ID.",
    ] {
        assert!(!flagged(ok, "R105"), "flagged: {ok}");
    }
}

#[test]
fn r105_suggests_a_question() {
    let f = check("Send the signed contract ASAP.");
    let f = f.iter().find(|f| f.code == "R105").expect("R105");
    assert_eq!(
        f.suggestion.as_deref(),
        Some("Ask instead of telling, and say why if it helps: “Could you please send the signed contract by <date>?”")
    );
}

// ---- R106 blame ----------------------------------------------------------------------------------

#[test]
fn r106_flags_blame() {
    let cases = [
        ("You failed to include the receipt.", "You failed to"),
        ("You didn't attach the file.", "You didn't"),
        ("You did not pay the invoice.", "You did not"),
        ("This was your mistake.", "This was your mistake"),
        ("That's your fault.", "That's your fault"),
        ("You forgot to sign page 2.", "You forgot to"),
        ("You never answer the phone.", "You never"),
        ("You always send it late.", "You always"),
        ("You should have checked the order.", "You should have"),
        ("You were supposed to call us.", "You were supposed to"),
        ("Why didn't you tell us sooner?", "Why didn't you"),
        ("Why haven't you paid?", "Why haven't you"),
        ("You keep sending the wrong file.", "You keep"),
        ("Your team failed to deliver on time.", "Your team failed"),
    ];
    for (text, span) in cases {
        let h = hits(text, "R106");
        assert_eq!(h, vec![(Severity::Warning, span.to_string())], "{text}");
    }
}

#[test]
fn r106_leaves_ordinary_you_alone() {
    for ok in [
        "If you didn't receive the invoice, let me know.",
        "In case you forgot your password, use the reset link.",
        "It's not your fault.",
        "This isn't your mistake at all.",
        "You should have received an email from us.",
        "You should have access by Monday.",
        "You didn't have to do that, thank you!",
        "You always do great work.",
        "You never know with the weather.",
        "Keep a copy so you keep your records complete.",
        "Thank you, keep up the good work.",
        "Sorry you didn't get a reply sooner.",
    ] {
        assert!(!flagged(ok, "R106"), "flagged: {ok}");
    }
}

// ---- R109 condescending and R110 sarcastic praise ------------------------------------------------

#[test]
fn r109_flags_talking_down() {
    let cases = [
        ("I'm sure even you can follow these steps.", "even you can"),
        ("As anyone knows, invoices are due in 30 days.", "As anyone knows"),
        ("Surely you know where the form is.", "Surely you know"),
        ("It's not rocket science.", "It's not rocket science"),
        ("I shouldn't have to explain this again.", "I shouldn't have to explain"),
        ("Let me spell it out for you.", "Let me spell it out"),
        ("I was surprised that you were not up to speed (although I probably shouldn't be).", "although I probably shouldn't be"),
    ];
    for (text, span) in cases {
        assert_eq!(hits(text, "R109"), vec![(Severity::Warning, span.to_string())], "{text}");
    }
}

#[test]
fn r109_leaves_encouragement_and_conditions_alone() {
    for ok in [
        "I'm sure you can manage the upgrade; call me if not.",
        "If even you can't open it, the file is broken.",
        "Everyone knows you as the expert here.",
        "Let me explain how the new pricing works.",
        "I should have explained this better.",
        "But I shouldn't be long.",
    ] {
        assert!(!flagged(ok, "R109"), "flagged: {ok}");
    }
}

#[test]
fn r110_flags_sarcastic_praise() {
    let cases = [
        ("Great, another delay.", "Great, another"),
        ("Oh wonderful, more paperwork.", "Oh wonderful, more"),
        ("Thanks for nothing.", "Thanks for nothing"),
        ("Thanks for finally replying.", "Thanks for finally"),
        ("What a surprise, the parts are late again.", "What a surprise"),
        ("Must be nice to take a month to answer.", "Must be nice"),
    ];
    for (text, span) in cases {
        assert_eq!(hits(text, "R110"), vec![(Severity::Warning, span.to_string())], "{text}");
    }
}

#[test]
fn r110_leaves_real_praise_alone() {
    for ok in [
        "Great, thanks for the quick reply!",
        "Wonderful news about the new contract.",
        "Perfect, see you on Monday.",
        "Thanks for the update on the shipment.",
        "Great work on another successful launch.",
        "Nice, now we can ship on Friday.",
        "Great, another order from Acme!",
        "Wonderful, one more happy customer.",
    ] {
        assert!(!flagged(ok, "R110"), "flagged: {ok}");
    }
}

// ---- R107 missing-greeting and R108 missing-sign-off ---------------------------------------------

#[test]
fn r107_flags_a_message_without_greeting() {
    let text = "The replacement part is out of stock. We expect it on 12 May. Your order will ship then.";
    assert_eq!(
        hits(text, "R107"),
        vec![(Severity::Info, "The replacement part is out of stock.".to_string())]
    );
}

#[test]
fn r107_accepts_greetings() {
    for greeting in [
        "Hi Maria,",
        "Hello,",
        "Dear Mr. Smith,",
        "Hey team,",
        "Good morning!",
        "Good afternoon Sam,",
        "Greetings,",
        "Morning all,",
        "Thanks for your message.",
        "Thank you for the quick reply.",
        "Maria,",
        "Greg/Phillip,",
    ] {
        let text = format!("{greeting}\nThe part is out of stock. We expect it on 12 May. Your order will ship then.\nBest,\nAnn");
        assert!(!flagged(&text, "R107"), "flagged: {greeting}");
    }
    // Too short to need one.
    assert!(!flagged("The part is out of stock. It ships on 12 May.", "R107"));
}

#[test]
fn r108_flags_a_message_without_sign_off() {
    let text = "Hi Sam,\nThe new invoice is attached.\nThe amount due is $240. It is due on 1 May.";
    assert_eq!(hits(text, "R108"), vec![(Severity::Info, "It is due on 1 May.".to_string())]);
    // A signature name after the last sentence is skipped, and the span is the last real sentence.
    let text = "Hi Sam,\nThe new invoice is attached.\nThe amount due is $240. It is due on 1 May.\nAnn Smith";
    assert_eq!(hits(text, "R108"), vec![(Severity::Info, "It is due on 1 May.".to_string())]);
    // Greeting, sign-off and name are not sentences of the message: too short to need one.
    assert!(!flagged("Hi Sam,\nThe new invoice is attached.\nAnn", "R108"));
}

#[test]
fn r108_accepts_closings() {
    for closing in [
        "Thanks,\nAnn",
        "Thank you!",
        "Best,\nAnn",
        "Regards,\nAnn",
        "Kind regards,\nAnn Smith",
        "Best regards",
        "Cheers,\nAnn",
        "Sincerely,\nAnn",
        "Talk soon,\nAnn",
        "All the best,\nAnn",
        "Many thanks,\nAnn",
        "Warmly,\nAnn",
        "Let me know if you have any questions.\nAnn",
    ] {
        let text = format!("Hi Sam,\nThe new invoice is attached. The amount due is $240.\n{closing}");
        assert!(!flagged(&text, "R108"), "flagged: {closing:?}");
    }
}

// ---- whole messages ------------------------------------------------------------------------------

#[test]
fn a_friendly_message_has_no_findings() {
    let text = "Hi Maria,\n\nThanks for your order. The PDF invoice is attached, and the parcel will \
                reach you by Friday. Could you check that the delivery address is right?\n\nLet me \
                know if you have any questions.\n\nBest regards,\nAnn";
    assert_eq!(check(text), vec![], "{text}");
}

#[test]
fn a_rude_message_has_many_findings() {
    let text = "Per my last email, you didn't send the form. SEND IT NOW!! I need it ASAP.";
    let found = check(text);
    let codes: Vec<&str> = found.iter().map(|f| f.code).collect();
    for code in ["R101", "R102", "R104", "R105", "R106", "R107", "R108"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    // Sorted by position in the text.
    assert_eq!(found[0].code, "R104");
}

/// Whole messages give the same verdicts whether the greeting and sign-off lines are sentences
/// of their own or run into the neighbouring sentence.
#[test]
fn verdicts_do_not_depend_on_how_lines_are_split() {
    let cases: &[(&str, &[&str])] = &[
        ("Hi Maria,\nThanks for your order. The parcel ships on Friday.\nBest regards,\nAnn", &[]),
        ("Hi Bob,\nFine.\nThanks,\nAnn", &["R103"]),
        ("Hi Bob,\nSend the signed contract ASAP.\nAnn", &["R105"]),
        ("Hi Sam,\nThe new invoice is attached. The amount due is $240. It is due on 1 May.\nAnn", &["R108"]),
        ("Per my last email, the form is missing. We can't ship without it. It is on our site.\nThanks,\nAnn", &["R104", "R107"]),
        ("Hi Sam,\nHere is the form. It is due Friday.\nThanks,\nAnn", &[]),
    ];
    for (text, expected) in cases {
        for (how, clean) in [("lines", clean_of(text)), ("punctuation", clean_punct_only(text))] {
            let found = check_rules(&clean);
            assert_well_formed(&clean, &found);
            let mut codes: Vec<&str> = found.iter().map(|f| f.code).collect();
            codes.dedup();
            let mut want = expected.to_vec();
            want.sort();
            codes.sort();
            assert_eq!(codes, want, "{how}: {text:?} -> {found:#?}");
        }
    }
}

#[test]
fn bad_sentence_ranges_are_skipped_not_trusted() {
    let clean = CleanText {
        text: "Per my last email, é.".into(),
        sentences: vec![0..21, 19..20, 5..500],
        segments: vec![],
    };
    let found = check_rules(&clean);
    assert!(found.iter().all(|f| f.sentence == 0), "{found:?}");
    assert!(found.iter().any(|f| f.code == "R104"));
    assert!(check_rules(&CleanText::default()).is_empty());
}

// ---- catalogue and docs --------------------------------------------------------------------------

#[test]
fn catalogue_is_complete_and_consistent() {
    let codes: Vec<&str> = RULES.iter().map(|r| r.code).collect();
    assert_eq!(
        codes,
        [
            "R101", "R102", "R103", "R104", "R105", "R106", "R107", "R108", "R109", "R110", "M201", "M202", "M203", "M204",
            "M205", "M206", "M207", "M208", "M209", "M210", "C301", "C302", "C303", "C304"
        ]
    );
    let expected = [
        ("R101", "shouting", Severity::Warning),
        ("R102", "piled-punctuation", Severity::Warning),
        ("R103", "curt-reply", Severity::Warning),
        ("R104", "passive-aggressive", Severity::Warning),
        ("R105", "unsoftened-demand", Severity::Warning),
        ("R106", "blame", Severity::Warning),
        ("R107", "missing-greeting", Severity::Info),
        ("R108", "missing-sign-off", Severity::Info),
        ("R109", "condescending", Severity::Warning),
        ("R110", "sarcastic-praise", Severity::Warning),
        ("M201", "negative-tone", Severity::Info),
        ("M202", "impolite-request", Severity::Info),
        ("M203", "uncivil", Severity::Info),
        ("M204", "sarcastic", Severity::Info),
        ("M205", "negative-emotion", Severity::Info),
        ("M206", "misread-risk", Severity::Warning),
        ("M207", "curt", Severity::Info),
        ("M208", "demanding", Severity::Info),
        ("M209", "passive-aggressive-tone", Severity::Info),
        ("M210", "blame-tone", Severity::Info),
        ("C301", "email-only-account", Severity::Warning),
        ("C302", "escalation", Severity::Warning),
        ("C303", "unacknowledged-upset", Severity::Info),
        ("C304", "harsher-than-usual", Severity::Info),
    ];
    for (r, (code, name, sev)) in RULES.iter().zip(expected) {
        assert_eq!((r.code, r.name, r.default_severity), (code, name, sev));
        let e = r.explanation;
        let sentences = e.matches(['.', '!', '?']).count();
        assert!(sentences >= 6, "{code}: explanation too short");
        assert!(e.contains("Flagged: ") && e.contains("Better: "), "{code}: needs an example and a rewrite");
        assert!(!e.starts_with(char::is_whitespace) && !e.ends_with(char::is_whitespace), "{code}");
        assert!(!e.contains("  "), "{code}: double space");
    }
}

/// The example in each rule's explanation is flagged by that rule, and its rewrite is not.
#[test]
fn explanation_examples_hold() {
    let example = |e: &str, label: &str| -> String {
        let line = e.lines().find_map(|l| l.strip_prefix(label)).unwrap_or_else(|| panic!("no {label}"));
        line.trim().trim_matches('"').to_string()
    };
    for r in RULES.iter().filter(|r| r.code.starts_with('R')) {
        let flagged_text = example(r.explanation, "Flagged: ");
        let better = example(r.explanation, "Better: ");
        assert!(flagged(&flagged_text, r.code), "{}: its example is not flagged: {flagged_text}", r.code);
        assert!(!flagged(&better, r.code), "{}: its rewrite is flagged: {better}", r.code);
    }
}

#[test]
fn explain_finds_codes_and_names() {
    assert_eq!(explain("R101").map(|r| r.name), Some("shouting"));
    assert_eq!(explain("r104").map(|r| r.code), Some("R104"));
    assert_eq!(explain(" m203 ").map(|r| r.name), Some("uncivil"));
    assert_eq!(explain("Passive-Aggressive").map(|r| r.code), Some("R104"));
    assert_eq!(explain("misread-risk").map(|r| r.code), Some("M206"));
    assert!(explain("R999").is_none());
    assert!(explain("").is_none());
}

/// `docs/rules.md` is generated from the catalogue. Regenerate it with
/// `RAPPORT_UPDATE_DOCS=1 cargo test -p rapport-core --lib rules`.
#[test]
fn docs_rules_md_is_in_sync() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules.md");
    let generated = catalogue_markdown();
    if std::env::var_os("RAPPORT_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).expect("write docs/rules.md");
    }
    let on_disk = std::fs::read_to_string(&path).expect("docs/rules.md exists");
    for r in RULES {
        assert!(on_disk.contains(r.explanation), "docs/rules.md lacks the explanation of {}", r.code);
    }
    assert!(
        on_disk == generated,
        "docs/rules.md is out of date; run RAPPORT_UPDATE_DOCS=1 cargo test -p rapport-core --lib rules"
    );
}

// ---- false positives on real business mail -------------------------------------------------------

/// The first `n` bodies of sent mail in AESLC (Enron), or `None` with a reason when the shared
/// datasets are not next to the checkout.
fn enron_sent_bodies(n: usize) -> Option<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/enron/aeslc_train.jsonl");
    let Ok(file) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: {} is not available (no ../shared/datasets next to the checkout)", path.display());
        return None;
    };
    let bodies = file
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["folder"] == "sent")
        .filter_map(|v| v["body"].as_str().map(str::to_string))
        .take(n)
        .collect();
    Some(bodies)
}

/// Ordinary business mail must not be flagged en masse. Enron's sent mail is internal and often
/// terse, so it is a harsh test: a rate that holds here holds for customer mail.
#[test]
fn few_false_positives_on_enron_sent_mail() {
    let Some(bodies) = enron_sent_bodies(2000) else { return };
    assert!(bodies.len() >= 1000, "expected AESLC sent bodies, got {}", bodies.len());
    let mut messages_with: BTreeMap<(&str, Severity), usize> = BTreeMap::new();
    let mut warned = 0;
    let mut sentences = 0;
    let mut warned_sentences = 0;
    for body in &bodies {
        let clean = clean_of(body);
        let found = check_rules(&clean);
        assert_well_formed(&clean, &found);
        sentences += clean.sentences.len();
        let mut seen: Vec<(&str, Severity)> = found.iter().map(|f| (f.code, f.severity)).collect();
        seen.sort();
        seen.dedup();
        for key in seen {
            *messages_with.entry(key).or_default() += 1;
        }
        if found.iter().any(|f| f.severity >= Severity::Warning) {
            warned += 1;
        }
        let mut ws: Vec<usize> =
            found.iter().filter(|f| f.severity >= Severity::Warning).map(|f| f.sentence).collect();
        ws.dedup();
        warned_sentences += ws.len();
    }
    let n = bodies.len() as f64;
    eprintln!("AESLC sent mail: {} messages, {sentences} sentences", bodies.len());
    for ((code, sev), count) in &messages_with {
        eprintln!("  {code} {:<7} {count:>5} messages ({:.1}%)", sev.as_str(), 100.0 * *count as f64 / n);
    }
    let rate = warned as f64 / n;
    let sentence_rate = warned_sentences as f64 / sentences as f64;
    eprintln!(
        "  messages with a warning or error: {warned} ({:.1}%); sentences: {warned_sentences} ({:.1}%)",
        100.0 * rate,
        100.0 * sentence_rate
    );
    // Measured when the rules were written: 8.6% of messages, 1.5% of sentences, no code above
    // 2.9%. Much of that is genuine (capitals, "!!", bare orders are common in internal mail);
    // the bounds leave room for tuning but catch a rule that starts firing on ordinary text.
    assert!(rate < 0.15, "{:.1}% of ordinary messages get a warning", 100.0 * rate);
    assert!(sentence_rate < 0.03, "{:.1}% of ordinary sentences get a warning", 100.0 * sentence_rate);
    for ((code, sev), count) in &messages_with {
        if *sev >= Severity::Warning {
            let share = *count as f64 / n;
            assert!(share < 0.05, "{code} warns on {:.1}% of ordinary messages", 100.0 * share);
        }
    }
}
