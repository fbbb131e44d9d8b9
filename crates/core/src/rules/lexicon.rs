//! Word lists and small text helpers shared by the checks.
use std::ops::Range;

use once_cell::sync::Lazy;
use regex::Regex;

/// Compile a phrase pattern: case-insensitive, word-bounded, with `'` matching straight and curly
/// apostrophes and a space matching any run of whitespace (line breaks included).
pub(crate) fn phrase_regex(pattern: &str) -> Regex {
    let body = pattern.replace('\'', "['’]").replace(' ', r"\s+");
    Regex::new(&format!(r"(?i)\b(?:{body})\b")).expect("phrase pattern compiles")
}

/// Words: runs of letters and digits, joined across `'`, `’`, `&`, `.` and `-` inside them
/// (`don't`, `AT&T`, `U.S`, `follow-up`).
static WORD: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"[\p{L}\p{N}]+(?:['’&.\-][\p{L}\p{N}]+)*").expect("word regex"));

/// The words of `s` with their byte ranges in `s`.
pub(crate) fn words(s: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    WORD.find_iter(s).map(|m| (m.range(), m.as_str()))
}

/// Number of words in `s` that contain a letter.
pub(crate) fn count_words(s: &str) -> usize {
    words(s).filter(|(_, w)| w.chars().any(char::is_alphabetic)).count()
}

/// Lower-cased words of `s` (letters only) — for matching short messages against word lists.
pub(crate) fn normalized(s: &str) -> String {
    words(s)
        .map(|(_, w)| w.to_lowercase().replace('’', "'"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Upper-case words that are ordinary in business mail and are not shouting: acronyms,
/// abbreviations, currencies, time zones, units, mail jargon. Anything with a digit (`Q3`, `2FA`),
/// a `&` (`AT&T`) or a dot (`U.S`) is treated as an abbreviation too, and so is an all-consonant
/// word (`NGPL`, `HVDC`): a shouted English word has a vowel.
const ACRONYMS: &[&str] = &[
    // from the spec'd allow-list
    "ASAP", "FYI", "PDF", "USD", "EUR", "CEO", "CFO", "CTO", "VP", "HR", "IT", "API", "SLA", "ETA",
    "EOD", "COB", "NDA", "RFP", "PO", "UTC", "GMT", "EST", "PST", "USA", "UK", "EU", "OK", "ID",
    "URL", "FAQ", "KPI", "ROI", "TBD",
    // executive and business titles, company forms
    "COO", "CIO", "CMO", "CISO", "SVP", "EVP", "AVP", "GM", "MD", "PM", "QA", "PR", "IR", "CPA",
    "MBA", "PHD", "ESQ", "LLC", "LLP", "INC", "LTD", "PLC", "CORP", "GMBH", "AG", "SA", "NV", "BV",
    // mail and office jargon
    "RE", "FW", "FWD", "CC", "BCC", "PS", "PPS", "NB", "ATTN", "RSVP", "OOO", "PTO", "EOW", "EOM",
    "TBA", "TBC", "NA", "N/A", "AKA", "FAQS", "IMO", "IMHO", "AFAIK", "IIRC", "FWIW", "BTW", "TIA",
    "WFH", "AM", "PM", "ET", "CT", "MT", "PT", "CST", "CDT", "EDT", "PDT", "MST", "MDT", "BST",
    "CET", "CEST", "IST", "AEST", "JST", "HKT", "SGT",
    // money, finance, trade
    "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "CNY", "INR", "HKD", "SGD", "SEK", "NOK", "DKK", "MXN",
    "BRL", "ZAR", "VAT", "GST", "HST", "EIN", "SSN", "IBAN", "BIC", "ACH", "EFT", "ATM", "PIN",
    "GAAP", "IFRS", "EBIT", "EBITDA", "P&L", "CAPEX", "OPEX", "YTD", "QTD", "MTD", "YOY", "MOM",
    "IPO", "M&A", "LOI", "MOU", "SOW", "MSA", "RFQ", "RFI", "POS", "SKU", "UPC", "MSRP", "FOB", "CIF",
    "DDP", "EXW", "COD", "NET", "AR", "AP", "CRM", "ERP", "SAAS", "B2B", "B2C", "SMB", "ARR", "MRR",
    "NYSE", "NASDAQ", "FTSE", "DAX", "SEC", "FTC", "FDA", "EPA", "IRS", "OSHA", "FERC", "CFTC",
    "FINRA", "HMRC", "GDPR", "CCPA", "HIPAA", "SOX", "PCI", "DSS", "ISO", "IEC", "IEEE", "ANSI",
    "NIST", "SOC", "OEM", "ODM", "RMA", "UPS", "USPS", "DHL", "FEDEX", "TNT", "LTL", "FTL",
    // technology
    "IT", "CSV", "XLS", "XLSX", "DOC", "DOCX", "PPT", "PPTX", "TXT", "ZIP", "JPG", "JPEG", "PNG",
    "GIF", "HTML", "HTTP", "HTTPS", "JSON", "XML", "YAML", "SQL", "FTP", "SFTP", "SSH", "SSL",
    "TLS", "VPN", "DNS", "IP", "TCP", "UDP", "LAN", "WAN", "WIFI", "USB", "HDMI", "CPU", "GPU",
    "RAM", "SSD", "HDD", "OS", "IOS", "MAC", "PC", "UI", "UX", "SDK", "CLI", "GUI", "SSO", "MFA",
    "OTP", "SAML", "LDAP", "SMTP", "IMAP", "POP", "SMS", "MMS", "QR", "AI", "ML", "LLM", "AWS",
    "GCP", "IBM", "SAP", "ASCII", "UTF", "UNIX", "LINUX", "NASA", "NATO", "UN", "IKEA",
    "BMW", "CNN", "BBC",
    // places and regions
    "US", "UAE", "APAC", "EMEA", "LATAM", "NYC", "LA", "SF", "DC", "NY", "NJ", "CA", "TX", "FL",
    "IL", "WA", "MA", "PA", "GA", "NC", "VA", "AZ", "CO", "OR", "MI", "OH", "MN", "WI", "MO", "TN",
    "IN", "KY", "LA", "MD", "SC", "AL", "UT", "NV", "NM", "OK", "KS", "NE", "IA", "AR", "MS", "CT",
    "DE", "RI", "NH", "VT", "ME", "AK", "ID", "MT", "WY", "ND", "SD", "WV",
    // energy trading (AESLC / Enron mail is the benchmark corpus; these are everyday terms there)
    "NYMEX", "ISDA", "ERCOT", "CAISO", "PJM", "MISO", "NERC", "MMBTU", "MW", "MWH", "KWH", "BTU",
    "LNG", "NGL", "OTC", "ICE", "EOL", "ENA", "ECT", "EES", "EBS", "ETS",
];

/// Ordinary English words that people put in capitals to raise their voice. A capitalised word
/// that is neither on this list nor shaped like an English word (see [`is_shoutable`]) is taken for
/// a name, code or acronym ("DASH", "CGAS", "ENRON"): business mail is full of those, and
/// flagging them would bury the real shouting.
const SHOUTABLE: &[&str] = &[
    // negation, quantity, modality
    "not", "no", "never", "none", "nothing", "nobody", "nowhere", "neither", "nor", "all", "every",
    "everyone", "everybody", "everything", "any", "anyone", "anybody", "anything", "only", "each",
    "both", "either", "must", "should", "will", "would", "could", "can", "cannot", "can't", "won't",
    "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't", "weren't", "haven't", "hasn't",
    "hadn't", "wouldn't", "shouldn't", "couldn't", "mustn't", "ain't", "i'm", "i've", "i'll", "i'd",
    "you're", "you've", "you'll", "it's", "that's", "we're", "they're", "let's",
    // function words (they make up most shouted phrases)
    "you", "your", "yours", "yourself", "we", "our", "ours", "they", "them", "their", "he", "him",
    "his", "she", "her", "my", "mine", "myself", "this", "that", "these", "those", "the", "and",
    "but", "if", "so", "to", "of", "on", "at", "by", "for", "with", "from", "into", "about", "up",
    "out", "off", "over", "under", "again", "is", "are", "was", "were", "be", "been", "being", "am",
    "have", "has", "had", "do", "does", "did", "done", "doing", "get", "got", "getting", "go",
    "going", "gone", "what", "why", "when", "where", "who", "whom", "how", "which", "there", "here",
    "then", "than", "just", "still", "yet", "already", "now", "today", "tonight", "tomorrow",
    "yesterday", "soon", "late", "later", "early", "ever", "before", "after", "until", "because",
    "as", "too", "very", "really", "so", "much", "many", "more", "most", "less", "least", "enough",
    "same", "other", "else", "like", "also", "even", "times",
    // urgency and emphasis
    "please", "urgent", "urgently", "important", "critical", "crucial", "essential", "vital",
    "attention", "warning", "caution", "danger", "note", "notice", "reminder", "final", "last",
    "first", "deadline", "overdue", "required", "mandatory", "immediate", "immediately", "asap",
    "stop", "wait", "listen", "look", "read", "call", "send", "pay", "fix", "reply", "respond",
    "check", "confirm", "sign", "return", "help", "need", "needs", "needed", "want", "wants",
    "expect", "expected", "know", "understand", "think", "told", "said", "asked", "sent", "paid",
    "received", "waiting", "keep", "make", "sure", "remember", "forget", "delete", "remove",
    "cancel", "refund", "money", "free", "now", "right", "wrong", "true", "false", "yes",
    "okay", "sorry", "thanks", "thank", "hello", "hi", "hey", "dear", "congratulations", "happy",
    // intensifiers and judgements
    "extremely", "absolutely", "totally", "completely", "entirely", "seriously", "definitely",
    "certainly", "clearly", "obviously", "simply", "exactly", "actually", "literally", "always",
    "forever", "huge", "big", "great", "good", "bad", "worse", "worst", "best", "better", "awful",
    "terrible", "horrible", "ridiculous", "unacceptable", "outrageous", "disgusting", "pathetic",
    "useless", "stupid", "crazy", "insane", "angry", "upset", "furious", "frustrated",
    "disappointed", "shocked", "amazing", "awesome", "fantastic", "excited", "love", "hate",
    "problem", "problems", "issue", "issues", "error", "mistake", "fault", "broken", "damaged",
    "lost", "missing", "delayed", "closed", "open", "due", "past", "full", "entire", "whole",
    "confidential", "private", "secret", "careful", "carefully", "explicitly", "specifically",
    "personally", "twice", "once", "cute", "fun", "cool", "nice", "wow",
    "omg", "lol", "yay", "ugh",
];

/// Is `word` (in capitals, not an acronym) an English word someone may be shouting: on the
/// [`SHOUTABLE`] list, or six or more letters with a typical English ending ("UNACCEPTABLE",
/// "DISAPPOINTED", "IMMEDIATELY")?
pub(crate) fn is_shoutable(word: &str) -> bool {
    let lower = word.to_lowercase().replace('’', "'");
    if SHOUTABLE.contains(&lower.as_str()) {
        return true;
    }
    const ENDINGS: &[&str] = &[
        "ing", "ed", "ly", "tion", "sion", "ness", "ment", "able", "ible", "ful", "less", "ous",
        "ive", "ance", "ence", "ity", "ise", "ize",
    ];
    lower.chars().count() >= 6 && lower.chars().all(char::is_alphabetic) && ENDINGS.iter().any(|e| lower.ends_with(e))
}

/// Is `word` (already known to be all capitals) an acronym or abbreviation rather than shouting?
pub(crate) fn is_acronym(word: &str) -> bool {
    if word.chars().any(|c| c.is_ascii_digit() || c == '&' || c == '.') {
        return true;
    }
    let letters: String = word.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.chars().count() <= 1 {
        return true;
    }
    // Plural or possessive of an acronym: "PDFS", "KPIS", "CEO'S".
    let base = letters.strip_suffix('S').filter(|b| b.len() >= 2);
    let upper = word.to_uppercase();
    let no_vowel = !letters.chars().any(|c| "AEIOUYÀÁÂÄÈÉÊËÌÍÎÏÒÓÔÖÙÚÛÜ".contains(c));
    no_vowel
        || ACRONYMS.contains(&upper.as_str())
        || ACRONYMS.contains(&letters.as_str())
        || base.is_some_and(|b| ACRONYMS.contains(&b))
}

/// Words and phrases that soften a request, and hedges that turn it into a suggestion ("I think
/// you need to …"). "Kindly" is deliberately not one: it reads as stiff or impatient to many
/// readers (see R104).
static SOFTENER: Lazy<Regex> = Lazy::new(|| {
    phrase_regex(
        "please|pls|plz|could you|would you|can you|will you|could we|can we|if possible|\
         when you get a chance|when you have a (?:moment|minute|chance)|when you can|if you can|\
         if you could|would you mind|do you mind|I'd appreciate|I would appreciate|\
         we'd appreciate|we would appreciate|appreciate it|thanks|thank you|thx|at your convenience|\
         no rush|no hurry|whenever you|feel free|if that works|if that's ok|if that is ok|\
         if you don't mind|would it be possible|is it possible|I wonder if|I was wondering|\
         I think|I believe|I suggest|I'd suggest|I would suggest|I recommend|maybe|perhaps|\
         might want to|may want to",
    )
});

pub(crate) fn has_softener(s: &str) -> bool {
    SOFTENER.is_match(s)
}

/// Words that make a very short reply warm rather than curt ("Great, thanks!").
static WARM: Lazy<Regex> = Lazy::new(|| {
    phrase_regex(
        "thanks|thank|thx|great|good|perfect|wonderful|excellent|fantastic|awesome|amazing|lovely|\
         appreciate|appreciated|glad|happy|pleased|delighted|love|congrats|congratulations|welcome|\
         sorry|apologies|please|nice|brilliant|cool|excited|enjoy|cheers|best|hope|thrilled",
    )
});

pub(crate) fn has_warm_word(s: &str) -> bool {
    WARM.is_match(s)
}

/// A greeting at the start of a message: "Hi Bob,", "Dear Ms. Li,", "Good morning!",
/// "Thanks for your note", "Hope you're well".
static GREETING: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)^(?:hi|hello|hey|hiya|howdy|dear|greetings|bonjour|hola|hallo|ciao|salut|buongiorno|guten (?:morgen|tag)|buenos d[ií]as|good (?:morning|afternoon|evening|day)|morning|afternoon|evening|welcome|(?:many )?thanks(?: so much| very much| again| a lot)? for|thank you(?: so much| very much| again)? for|many thanks|thanks|thank you|happy (?:monday|tuesday|wednesday|thursday|friday|new year|holidays)|congratulations|congrats|(?:I )?hope (?:you|this|all|your|everyone))\b",
    )
    .expect("greeting regex")
});

/// Capitalised words that often open a sentence followed by a comma and are not names, so
/// "Attached, …" or "However, …" is not taken for a vocative "Bob, …".
const NOT_NAMES: &[&str] = &[
    "also", "however", "yes", "no", "ok", "okay", "sorry", "attached", "unfortunately", "again",
    "additionally", "first", "second", "finally", "still", "well", "so", "now", "then", "today",
    "tomorrow", "yesterday", "currently", "meanwhile", "otherwise", "fyi", "btw", "please",
    "thanks", "sure", "absolutely", "certainly", "great", "perfect", "fine", "right", "anyway",
    "honestly", "frankly", "basically", "actually", "obviously", "clearly", "regardless",
    "therefore", "thus", "hence", "instead", "plus", "next", "lastly", "last", "oh", "ah", "note",
    "important", "update", "reminder", "in", "as", "for", "and", "but", "or", "if", "when", "while",
    "because", "since", "after", "before", "once", "yeah", "yep", "nope", "hmm", "wow",
];

/// A leading vocative: one to four capitalised names, then `,` `:` `-` or `!`
/// ("Bob,", "Greg/Phillip,", "Mr. Smith:", "Ann and Raj -").
static VOCATIVE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"^(?:(?:Mr|Mrs|Ms|Dr|Prof)\.?\s+)?\p{Lu}[\p{L}'’\-]*(?:\s*(?:/|&|,|\band\b)?\s*(?:(?:Mr|Mrs|Ms|Dr)\.?\s+)?\p{Lu}[\p{L}'’\-]*){0,3}(?:\s*[,:!]|\s[-–—]\s|[ \t]*\n)",
    )
    .expect("vocative regex")
});

/// If `s` opens with a vocative ("Bob, …"), the byte length of it (with following whitespace).
pub(crate) fn vocative_len(s: &str) -> Option<usize> {
    let m = VOCATIVE.find(s)?;
    let first = words(m.as_str()).next()?.1.to_lowercase();
    if NOT_NAMES.contains(&first.as_str()) {
        return None;
    }
    Some(m.end() + (s[m.end()..].len() - s[m.end()..].trim_start().len()))
}

/// Does `s` open with a greeting or a vocative?
pub(crate) fn starts_with_greeting(s: &str) -> bool {
    let s = s.trim_start();
    GREETING.is_match(s) || vocative_len(s).is_some()
}

/// If `s` opens with a greeting line or clause ("Hi Bob,", "Hello!", "Dear team:", "Bob,"), the
/// byte length of it including following whitespace; the content starts after it.
pub(crate) fn greeting_prefix_len(s: &str) -> Option<usize> {
    let lead = s.len() - s.trim_start().len();
    let t = &s[lead..];
    if let Some(m) = GREETING.find(t) {
        // The greeting runs to the first `,` `:` `!` `.` or line break, within a few words.
        let rest = &t[m.end()..];
        let stop = rest.find([',', ':', '!', '.', '\n']).unwrap_or(rest.len());
        let head = &rest[..stop];
        if count_words(head) <= 4 {
            let mut end = m.end() + stop;
            end += rest[stop..].chars().next().map_or(0, char::len_utf8);
            let after = &t[end..];
            end += after.len() - after.trim_start().len();
            return Some(lead + end);
        }
        return None;
    }
    vocative_len(t).map(|n| lead + n)
}

/// A sign-off: at the start of a line ("Best,", "Regards", "Cheers") or anywhere in the sentence
/// ("Thanks for your help", "Let me know if …", "Looking forward to …").
static CLOSING_LINE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?im)^[\s\-–—]*(?:best|regards|kind regards|warm regards|best regards|cheers|sincerely|yours|respectfully|warmly|all the best|take care|talk soon|speak soon|many thanks|thanks|thank you|thx|tia|much appreciated)\b",
    )
    .expect("closing regex")
});
static CLOSING_ANYWHERE: Lazy<Regex> = Lazy::new(|| {
    phrase_regex(
        "thanks|thank you|thx|appreciate|appreciated|let me know|let us know|look forward|\
         looking forward|have a (?:great|good|nice|lovely|wonderful)|hope this helps|feel free|\
         talk soon|speak soon|regards|all the best|best wishes|take care|see you|sincerely|cheers",
    )
});

pub(crate) fn has_closing(s: &str) -> bool {
    CLOSING_LINE.is_match(s) || CLOSING_ANYWHERE.is_match(s)
}

/// A sentence that is nothing but a sign-off, optionally with a name: "Thanks,", "Best regards,",
/// "Cheers, Ann", "Thank you!".
static CLOSING_ONLY: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)^(?:(?:best|kind|warm|warmest|many)\s+)?(?:regards|wishes|thanks|thank you|cheers|sincerely|yours(?:\s+(?:truly|sincerely))?|respectfully|warmly|best|all the best|take care|talk soon|speak soon|thx|tia|thanks again|thanks so much|thank you so much|thanks a lot|much appreciated)\s*[,.!]*(?:\s+(?-i:\p{Lu})[\p{L}'’.\-]*(?:\s+(?-i:\p{Lu})[\p{L}'’.\-]*){0,2})?\s*$",
    )
    .expect("closing-only regex")
});

pub(crate) fn is_closing_only(s: &str) -> bool {
    CLOSING_ONLY.is_match(s.trim())
}

/// A line that looks like a signature name: one to three words, no sentence punctuation, each
/// capitalised or a short lower-case initialism ("Ann", "Bob Smith", "J. Doe", "df").
pub(crate) fn is_name_like(s: &str) -> bool {
    let t = s.trim().trim_end_matches(',').trim_end();
    if t.is_empty() || t.ends_with(['!', '?', ':', ';']) {
        return false;
    }
    let ws: Vec<&str> = words(t).map(|(_, w)| w).collect();
    if ws.is_empty() || ws.len() > 3 {
        return false;
    }
    // A trailing full stop ends a sentence, unless it closes an initial ("Ann M.").
    if t.ends_with('.') && ws.last().is_some_and(|w| w.chars().count() > 1) {
        return false;
    }
    // Nothing but the words, spaces and initials' dots.
    if !t.chars().all(|c| c.is_alphanumeric() || c.is_whitespace() || ".-'’".contains(c)) {
        return false;
    }
    ws.iter().all(|w| {
        let first = w.chars().next().unwrap_or(' ');
        first.is_uppercase() || (w.chars().count() <= 3 && w.chars().all(char::is_lowercase))
    })
}

/// Does the word at `pos` in `s` come right after one of `guards` (within `window` words)?
pub(crate) fn preceded_by(s: &str, pos: usize, guards: &[&str], window: usize) -> bool {
    let before: Vec<String> =
        words(&s[..pos]).map(|(_, w)| w.to_lowercase().replace('’', "'")).collect();
    before.iter().rev().take(window).any(|w| guards.contains(&w.as_str()))
}

/// The lower-cased word that follows byte offset `pos` in `s`, if any.
pub(crate) fn next_word(s: &str, pos: usize) -> Option<String> {
    words(&s[pos..]).next().map(|(_, w)| w.to_lowercase().replace('’', "'"))
}

/// The lower-cased word that ends before byte offset `pos` in `s`, if any.
pub(crate) fn prev_word(s: &str, pos: usize) -> Option<String> {
    words(&s[..pos]).last().map(|(_, w)| w.to_lowercase().replace('’', "'"))
}
