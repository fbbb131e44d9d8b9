//! Which language a draft is written in, so that rapport's English rules and English tone model
//! only run on English. A German "Sehr geehrter Herr Weber," is a greeting, and "Mit freundlichen
//! Grüßen" a sign-off; the English rules cannot know that, and the model was trained on English
//! mail. For any other language rapport says so instead of raising false alarms.
//!
//! Detection uses whatlang (trigram profiles, no model files) on the cleaned text: what the sender
//! wrote, without quotes and signature. It only switches the checks off when it is sure: the text
//! must have enough letters, and whatlang must call its answer reliable (or, when it hesitates
//! between close languages such as Spanish and Portuguese, be sure that the text is not English:
//! its best guess against English alone). Among Latin-script
//! languages it chooses from the common languages of business mail, so that short English text is
//! not taken for Latin, Esperanto or Afrikaans. A draft too short to tell is taken as English.
//!
//! The `[check] language` setting overrides detection: `"auto"` (the default), or a language
//! (`"en"`, `"de"`, `"fra"`, `"German"`) when all your mail is in one language.
use whatlang::{Detector, Lang, Script};

/// Fewer letters than this and the draft is taken as English: detection needs some text.
pub const MIN_LETTERS: usize = 40;

/// Latin-script languages detection chooses from.
const LATIN: &[Lang] = &[
    Lang::Eng,
    Lang::Deu,
    Lang::Fra,
    Lang::Spa,
    Lang::Ita,
    Lang::Por,
    Lang::Nld,
    Lang::Swe,
    Lang::Dan,
    Lang::Nob,
    Lang::Fin,
    Lang::Pol,
    Lang::Ces,
    Lang::Slk,
    Lang::Hun,
    Lang::Tur,
    Lang::Ron,
    Lang::Hrv,
    Lang::Slv,
    Lang::Lit,
    Lang::Lav,
    Lang::Est,
    Lang::Cat,
    Lang::Ind,
    Lang::Vie,
];

/// The `[check] language` setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Setting {
    /// Detect the language of each draft.
    #[default]
    Auto,
    /// Every draft is in this language.
    Fixed(Lang),
}

impl Setting {
    /// `auto`, an ISO 639-1 or 639-3 code (`de`, `deu`) or an English name (`German`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let v = s.trim().to_ascii_lowercase();
        if v == "auto" || v.is_empty() {
            return Ok(Setting::Auto);
        }
        let lang = Lang::all()
            .iter()
            .copied()
            .find(|l| l.code() == v || iso639_1(*l) == Some(v.as_str()) || l.eng_name().eq_ignore_ascii_case(&v));
        lang.map(Setting::Fixed).ok_or_else(|| {
            format!("{s:?} is not a language rapport knows: write \"auto\", a code such as \"en\" or \"de\", or a name such as \"German\"")
        })
    }
}

/// The language of one draft, and whether rapport checked it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Language {
    /// ISO 639-1 where there is one (`en`, `de`, `fr`), else ISO 639-3.
    pub code: &'static str,
    /// The language's English name.
    pub name: &'static str,
    /// Whether the English rules and the English tone model ran.
    pub checked: bool,
    /// `detected`, `configured` (the `[check] language` setting) or `assumed` (too little text to
    /// tell, or no language stood out: taken as English).
    pub how: &'static str,
}

impl Language {
    fn of(lang: Lang, how: &'static str) -> Self {
        Language { code: iso639_1(lang).unwrap_or(lang.code()), name: lang.eng_name(), checked: lang == Lang::Eng, how }
    }

    /// English, assumed.
    pub fn assumed_english() -> Self {
        Language::of(Lang::Eng, "assumed")
    }

    /// What to tell the user when the draft was not checked.
    pub fn note(&self) -> Option<String> {
        (!self.checked).then(|| {
            let why = if self.how == "configured" { "is set to" } else { "reads as" };
            format!(
                "This draft {why} {} ({}): rapport's rules and tone model are for English, so they did not run and nothing is flagged.",
                self.name, self.code
            )
        })
    }
}

/// The language of `text` (a draft's cleaned text) under `setting`.
pub fn decide(text: &str, setting: Setting) -> Language {
    match setting {
        Setting::Fixed(lang) => Language::of(lang, "configured"),
        Setting::Auto => match detect(text) {
            Some(lang) => Language::of(lang, "detected"),
            None => Language::assumed_english(),
        },
    }
}

/// The language of `text` when detection is sure of it; None when the text is too short or no
/// language stands out.
pub fn detect(text: &str) -> Option<Lang> {
    if text.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS {
        return None;
    }
    let info = match whatlang::detect_script(text)? {
        Script::Latin => Detector::with_allowlist(LATIN.to_vec()).detect(text)?,
        _ => whatlang::detect(text)?,
    };
    if info.is_reliable() || info.lang() == Lang::Eng {
        return info.is_reliable().then_some(info.lang());
    }
    // Unsure which of close languages it is (Spanish, Portuguese, Catalan): what matters is
    // whether it is English, so ask that alone.
    let binary = Detector::with_allowlist(vec![Lang::Eng, info.lang()]).detect(text)?;
    (binary.is_reliable() && binary.lang() != Lang::Eng).then_some(info.lang())
}

/// ISO 639-1 codes of the languages people most often ask for by their two letters.
fn iso639_1(lang: Lang) -> Option<&'static str> {
    Some(match lang {
        Lang::Eng => "en",
        Lang::Deu => "de",
        Lang::Fra => "fr",
        Lang::Spa => "es",
        Lang::Ita => "it",
        Lang::Por => "pt",
        Lang::Nld => "nl",
        Lang::Swe => "sv",
        Lang::Dan => "da",
        Lang::Nob => "nb",
        Lang::Fin => "fi",
        Lang::Pol => "pl",
        Lang::Ces => "cs",
        Lang::Slk => "sk",
        Lang::Hun => "hu",
        Lang::Tur => "tr",
        Lang::Ron => "ro",
        Lang::Hrv => "hr",
        Lang::Slv => "sl",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Cat => "ca",
        Lang::Ind => "id",
        Lang::Vie => "vi",
        Lang::Rus => "ru",
        Lang::Ukr => "uk",
        Lang::Cmn => "zh",
        Lang::Jpn => "ja",
        Lang::Kor => "ko",
        Lang::Ara => "ar",
        Lang::Heb => "he",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Hin => "hi",
        Lang::Tha => "th",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GERMAN: &str = "Sehr geehrter Herr Weber,\n\nvielen Dank für Ihre Nachricht vom Montag. Die Lieferung verzögert sich leider um eine Woche, weil ein Bauteil fehlt. Wir melden uns, sobald die Ware unterwegs ist.\n\nMit freundlichen Grüßen\nDana Berg";
    const FRENCH: &str = "Bonjour Madame Leroy,\n\nmerci pour votre message de lundi. La livraison aura malheureusement une semaine de retard, car une pièce manque encore. Nous vous tiendrons informée dès que la commande sera expédiée.\n\nBien cordialement,\nDana Berg";
    const ENGLISH: &str = "Hi Marc,\n\nthanks for your message on Monday. The delivery is a week late because one part is missing. We will let you know as soon as the order ships.\n\nBest regards,\nDana";

    #[test]
    fn german_and_french_are_recognised_and_not_checked() {
        let de = decide(GERMAN, Setting::Auto);
        assert_eq!((de.code, de.name, de.checked, de.how), ("de", "German", false, "detected"));
        assert!(de.note().unwrap().contains("German (de)"));
        let fr = decide(FRENCH, Setting::Auto);
        assert_eq!((fr.code, fr.checked), ("fr", false));
        // Short replies too.
        for (text, code) in [
            ("Hallo Klaus,\n\ndanke für die schnelle Antwort. Ich schicke Ihnen die Unterlagen morgen.\n\nViele Grüße\nDana", "de"),
            ("Bonjour Paul,\n\nmerci pour votre réponse rapide. Je vous envoie les documents demain.\n\nCordialement,\nDana", "fr"),
            ("Hola Marta,\n\ngracias por tu respuesta. Te envío los documentos mañana.\n\nSaludos,\nDana", "es"),
        ] {
            assert_eq!(decide(text, Setting::Auto).code, code, "{text}");
        }
    }

    #[test]
    fn english_is_checked_and_short_text_is_taken_as_english() {
        let en = decide(ENGLISH, Setting::Auto);
        assert_eq!((en.code, en.checked, en.how), ("en", true, "detected"));
        assert!(en.note().is_none());
        for short in ["Noted.", "Danke!", "Fine, send it.", ""] {
            let l = decide(short, Setting::Auto);
            assert_eq!((l.code, l.checked, l.how), ("en", true, "assumed"), "{short}");
        }
    }

    #[test]
    fn the_setting_overrides_detection() {
        assert_eq!(Setting::parse("auto").unwrap(), Setting::Auto);
        for s in ["en", "eng", "English", " EN "] {
            assert_eq!(Setting::parse(s).unwrap(), Setting::Fixed(Lang::Eng), "{s}");
        }
        assert_eq!(Setting::parse("de").unwrap(), Setting::Fixed(Lang::Deu));
        assert!(Setting::parse("klingon").unwrap_err().contains("\"klingon\""));
        let forced = decide(GERMAN, Setting::Fixed(Lang::Eng));
        assert!(forced.checked && forced.how == "configured");
        let de = decide(ENGLISH, Setting::Fixed(Lang::Deu));
        assert!(!de.checked && de.note().unwrap().contains("is set to German"));
    }

    /// English business mail must be checked: on the AESLC (Enron) bodies, cleaned as `rapport
    /// check` cleans them, a draft taken for another language is one that gets no check at all.
    #[test]
    fn english_business_mail_is_taken_as_english() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/enron/aeslc_train.jsonl");
        let Ok(file) = std::fs::read_to_string(&path) else {
            eprintln!("skipping: {} is not available (no ../shared/datasets next to the checkout)", path.display());
            return;
        };
        let bodies: Vec<String> = file
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["body"].as_str().map(str::to_string))
            .take(5000)
            .collect();
        assert!(bodies.len() >= 1000, "expected AESLC bodies, got {}", bodies.len());
        let mut other: std::collections::BTreeMap<&str, usize> = Default::default();
        let mut assumed = 0;
        for b in &bodies {
            let l = decide(&crate::clean::clean(b).text, Setting::Auto);
            if !l.checked {
                *other.entry(l.name).or_default() += 1;
            } else if l.how == "assumed" {
                assumed += 1;
            }
        }
        let skipped: usize = other.values().sum();
        let n = bodies.len() as f64;
        eprintln!(
            "AESLC bodies: {} ; taken for another language: {skipped} ({:.2}%) {other:?}; too short to tell (checked as English): {assumed} ({:.1}%)",
            bodies.len(),
            100.0 * skipped as f64 / n,
            100.0 * assumed as f64 / n
        );
        assert!((skipped as f64) / n < 0.005, "{skipped} English bodies would go unchecked: {other:?}");
    }
}
