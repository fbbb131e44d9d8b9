//! The formulas of the accounts report, documented in docs/accounts.md: the relationship's
//! strength and stage, the trend of volume and tone, the four reasons an account needs a call or a
//! visit, and the need score that ranks them.
use super::dates::iso;
use super::model::{Need, Period, Reason, ReasonCode, Stage, Strength, Trend};
use crate::text::plural;

/// The strength's weights (they add up to 100).
pub const W_RECENCY: f64 = 20.0;
pub const W_FREQUENCY: f64 = 20.0;
pub const W_RECIPROCITY: f64 = 20.0;
pub const W_BREADTH: f64 = 15.0;
pub const W_DEPTH: f64 = 15.0;
pub const W_CHANNELS: f64 = 10.0;
/// Recency falls to 0 at this many days without contact.
pub const RECENCY_DAYS: f64 = 180.0;
/// Frequency is full at this many messages a month.
pub const FULL_PER_MONTH: f64 = 8.0;
/// Breadth is full at this many contacts (one contact: 0).
pub const FULL_CONTACTS: usize = 5;
/// Reciprocity counts fully from this many threads on.
pub const FULL_RECIPROCITY_THREADS: usize = 3;
/// Depth is full at this many two-way threads.
pub const FULL_TWO_WAY: usize = 5;

/// A trend needs at least this many messages in the earlier period.
pub const MIN_TREND_MESSAGES: usize = 4;
/// Volume dipped: down at least this share.
pub const DIP_SHARE: f64 = 0.4;
/// Reciprocity dipped: each period needs this many threads we started, and their answered share
/// down at least `RECIPROCITY_DIP` (0–1).
pub const MIN_TREND_THREADS: usize = 3;
pub const RECIPROCITY_DIP: f64 = 0.34;
/// A surge: at least this many messages in the last 90 days and at least twice the 90 before.
pub const SURGE_MESSAGES: usize = 8;
/// Many contacts: at least this many active in the last 90 days, twice the 90 before.
pub const SURGE_CONTACTS: usize = 4;
/// Known for a long time: first to last contact at least this many days.
pub const LONG_TENURE_DAYS: i64 = 365;
/// A tone trend needs this many scored messages in each period.
pub const MIN_TONE_SCORED: usize = 3;

pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// What the strength reads.
#[derive(Debug, Clone, Default)]
pub struct StrengthInput {
    pub days_since_contact: Option<i64>,
    /// Messages (both ways) in the last 365 days, and the days they are spread over (the last
    /// 365, or since the first contact when shorter).
    pub messages_365: usize,
    pub span_days: i64,
    /// we_answered_share and they_answered_share, when known, and the threads they rest on.
    pub we_answered: Option<f64>,
    pub they_answered: Option<f64>,
    pub reciprocity_threads: usize,
    pub active_contacts: usize,
    pub two_way_threads: usize,
    /// A meeting, a call that happened in the last 365 days.
    pub met: bool,
    pub called: bool,
}

/// strength = 20 × recency + 20 × frequency + 20 × reciprocity + 15 × breadth + 15 × depth
///          + 10 × channel mix, each part 0–1:
/// - recency = 1 − min(days since the last message, call or meeting, 180) / 180;
/// - frequency = min(messages a month over the last 365 days, 8) / 8;
/// - reciprocity = the mean of the known shares (their threads we answered, our threads they
///   answered; 0 when neither is known) × min(threads they rest on, 3) / 3, so that one thread
///   never makes a relationship;
/// - breadth = min(contacts active in the last 365 days − 1, 4) / 4;
/// - depth = min(two-way threads in the last 365 days, 5) / 5;
/// - channel mix = 0.5 for a meeting and 0.5 for a call that happened in the last 365 days.
pub fn strength(i: &StrengthInput) -> Strength {
    let recency = i.days_since_contact.map(|d| 1.0 - (d.max(0) as f64).min(RECENCY_DAYS) / RECENCY_DAYS).unwrap_or(0.0);
    let per_month = i.messages_365 as f64 * 30.0 / i.span_days.clamp(30, 365) as f64;
    let frequency = per_month.min(FULL_PER_MONTH) / FULL_PER_MONTH;
    let known: Vec<f64> = i.we_answered.into_iter().chain(i.they_answered).collect();
    let confidence = i.reciprocity_threads.min(FULL_RECIPROCITY_THREADS) as f64 / FULL_RECIPROCITY_THREADS as f64;
    let reciprocity = if known.is_empty() { 0.0 } else { known.iter().sum::<f64>() / known.len() as f64 * confidence };
    let breadth = (i.active_contacts.saturating_sub(1).min(FULL_CONTACTS - 1)) as f64 / (FULL_CONTACTS - 1) as f64;
    let depth = i.two_way_threads.min(FULL_TWO_WAY) as f64 / FULL_TWO_WAY as f64;
    let channel_mix = 0.5 * f64::from(u8::from(i.met)) + 0.5 * f64::from(u8::from(i.called));
    let score = W_RECENCY * recency + W_FREQUENCY * frequency + W_RECIPROCITY * reciprocity + W_BREADTH * breadth + W_DEPTH * depth + W_CHANNELS * channel_mix;
    Strength {
        score: round1(score),
        recency: round3(recency),
        frequency: round3(frequency),
        reciprocity: round3(reciprocity),
        breadth: round3(breadth),
        depth: round3(depth),
        channel_mix: round3(channel_mix),
        days_since_contact: i.days_since_contact,
        messages_per_month: round1(per_month),
        active_contacts: i.active_contacts,
        two_way_threads: i.two_way_threads,
    }
}

/// The stage follows from the strength: < 20 acquaintance, < 40 friend, < 60 dating, < 80
/// engaged, else married.
pub fn stage(strength: f64) -> Stage {
    match strength {
        s if s < 20.0 => Stage::Acquaintance,
        s if s < 40.0 => Stage::Friend,
        s if s < 60.0 => Stage::Dating,
        s if s < 80.0 => Stage::Engaged,
        _ => Stage::Married,
    }
}

/// Volume in the last 90 days against the 90 before.
pub fn trend(last_90: usize, prev_90: usize) -> Trend {
    let change = (prev_90 > 0).then(|| round3((last_90 as f64 - prev_90 as f64) / prev_90 as f64));
    let label = match (last_90, prev_90) {
        (0, 0) => "inactive",
        (_, 0) => "new",
        (l, p) if p >= MIN_TREND_MESSAGES && (p - l.min(p)) as f64 >= DIP_SHARE * p as f64 => "dipping",
        (l, p) if l >= MIN_TREND_MESSAGES && l as f64 >= (1.0 + DIP_SHARE) * p as f64 => "rising",
        _ => "steady",
    };
    Trend { last_90, prev_90, change, label }
}

/// The flagged share's trend: rising (≥ +10 points), falling (≤ −10 points), steady; unknown
/// unless each period has at least 3 scored messages.
pub fn tone_change(last: &Period, prev: &Period) -> (Option<f64>, &'static str) {
    let change = match (last.share, prev.share) {
        (Some(l), Some(p)) if last.scored >= MIN_TONE_SCORED && prev.scored >= MIN_TONE_SCORED => Some(round3(l - p)),
        _ => None,
    };
    let label = match change {
        None => "unknown",
        Some(c) if c >= 0.1 - 1e-9 => "rising",
        Some(c) if c <= -0.1 + 1e-9 => "falling",
        _ => "steady",
    };
    (change, label)
}

/// What the reasons read.
#[derive(Debug, Clone, Default)]
pub struct ReasonInput {
    pub as_of: i64,
    /// Messages (both ways) in the last 90 days and in the 90 before.
    pub last_90: usize,
    pub prev_90: usize,
    /// Threads we started in each period, and how many of them they answered.
    pub ours_last_90: (usize, usize),
    pub ours_prev_90: (usize, usize),
    /// In the last 90 days: complaints from them (and of those, answered without an apology),
    /// their other negative messages, our flagged messages; and their messages waiting for an
    /// answer now.
    pub complaints: usize,
    pub unapologised: usize,
    pub negative: usize,
    pub flagged: usize,
    pub unanswered: usize,
    /// Contacts with a message in the last 90 days and in the 90 before.
    pub contacts_last_90: usize,
    pub contacts_prev_90: usize,
    /// First and last contact.
    pub first_contact: Option<i64>,
    pub last_contact: Option<i64>,
    /// The last call or meeting that happened.
    pub last_touch: Option<i64>,
    /// No call or meeting in this many days is "not seen in a long time".
    pub unseen_days: i64,
}

/// Seed 004's four cases, each with a minimum of data so that one message never swings it:
///
/// 1. **dipped** — volume: at least 4 messages in the 90 days before and down at least 40% in
///    the last 90 (points 40 × the drop); or reciprocity: in each period at least 3 threads we
///    started, and the share they answered down at least 34 points (40 × the drop); the larger.
/// 2. **issue** — in the last 90 days a complaint from them, or a message of theirs unanswered
///    now, or together at least 2 negative messages from them and flagged messages from us:
///    20 per complaint (+10 when we answered it without an apology) + 10 per unanswered message
///    + 5 per negative or flagged message, at most 40.
/// 3. **big_project** — at least 8 messages in the last 90 days and at least twice the 90 before;
///    or at least 4 contacts active in the last 90 days and twice the 90 before: 25.
/// 4. **long_unseen** — known for at least 365 days (first to last contact), in contact in the
///    last 365, and no call or meeting in `unseen_days` (default 180): 20, or 25 when there never
///    was one.
pub fn reasons(i: &ReasonInput) -> Vec<Reason> {
    let mut out = Vec::new();

    // 1. Business dipped.
    let mut dip: Vec<(f64, String, String)> = Vec::new();
    if i.prev_90 >= MIN_TREND_MESSAGES && i.last_90 < i.prev_90 {
        let drop = (i.prev_90 - i.last_90) as f64 / i.prev_90 as f64;
        if drop >= DIP_SHARE - 1e-9 {
            dip.push((
                40.0 * drop,
                format!("volume down {} ({} → {} messages)", pct(drop), i.prev_90, i.last_90),
                format!("{} in the last 90 days, {} in the 90 before", plural(i.last_90, "message"), i.prev_90),
            ));
        }
    }
    let ((lp, la), (pp, pa)) = (i.ours_last_90, i.ours_prev_90);
    if lp >= MIN_TREND_THREADS && pp >= MIN_TREND_THREADS {
        let (now, before) = (la as f64 / lp as f64, pa as f64 / pp as f64);
        if before - now >= RECIPROCITY_DIP - 1e-9 {
            dip.push((
                40.0 * (before - now),
                format!("they answer less: {} of our threads, down from {}", pct(now), pct(before)),
                format!("{la} of {lp} threads we started in the last 90 days answered, {pa} of {pp} in the 90 before"),
            ));
        }
    }
    if !dip.is_empty() {
        let points = dip.iter().map(|d| d.0).fold(0.0, f64::max);
        out.push(Reason {
            code: ReasonCode::Dipped,
            points: round1(points),
            text: format!("business dipped: {}", dip.iter().map(|d| d.1.as_str()).collect::<Vec<_>>().join("; ")),
            evidence: dip.into_iter().map(|d| d.2).collect(),
        });
    }

    // 2. Working through an issue.
    let signals = i.negative + i.flagged;
    if i.complaints > 0 || i.unanswered > 0 || signals >= 2 {
        let mut parts = Vec::new();
        if i.complaints > 0 {
            let unapologised = if i.unapologised > 0 { format!(" ({} answered without an apology)", i.unapologised) } else { String::new() };
            parts.push(format!("{}{unapologised}", plural(i.complaints, "complaint")));
        }
        if i.unanswered > 0 {
            parts.push(format!("{} unanswered", plural(i.unanswered, "message")));
        }
        if i.negative > 0 {
            parts.push(format!("{} from them", plural(i.negative, "negative message")));
        }
        if i.flagged > 0 {
            parts.push(format!("{} from us", plural(i.flagged, "flagged message")));
        }
        let points = (20 * i.complaints + 10 * i.unapologised + 10 * i.unanswered + 5 * signals).min(40) as f64;
        out.push(Reason {
            code: ReasonCode::Issue,
            points,
            text: format!("working through an issue: {}", parts.join(", ")),
            evidence: vec![format!(
                "last 90 days: {}, {} from them, {} from us; {} waiting for an answer now",
                plural(i.complaints, "complaint"),
                plural(i.negative, "negative message"),
                plural(i.flagged, "flagged message"),
                i.unanswered
            )],
        });
    }

    // 3. A big project.
    let volume = i.last_90 >= SURGE_MESSAGES && i.last_90 >= 2 * i.prev_90;
    let people = i.contacts_last_90 >= SURGE_CONTACTS && i.contacts_last_90 >= 2 * i.contacts_prev_90;
    if volume || people {
        let mut parts = Vec::new();
        if volume {
            parts.push(format!("volume up ({} → {} messages)", i.prev_90, i.last_90));
        }
        if people {
            parts.push(format!("{} contacts involved ({} before)", i.contacts_last_90, i.contacts_prev_90));
        }
        out.push(Reason {
            code: ReasonCode::BigProject,
            points: 25.0,
            text: format!("a big project: {}", parts.join(", ")),
            evidence: vec![format!(
                "last 90 days: {} with {}; the 90 before: {} with {}",
                plural(i.last_90, "message"),
                plural(i.contacts_last_90, "contact"),
                plural(i.prev_90, "message"),
                plural(i.contacts_prev_90, "contact")
            )],
        });
    }

    // 4. Known for a long time, not seen in a long time.
    if let (Some(first), Some(last)) = (i.first_contact, i.last_contact) {
        let tenure = last - first;
        let recent = i.as_of - last < 365;
        let unseen = i.last_touch.is_none_or(|t| i.as_of - t >= i.unseen_days);
        if tenure >= LONG_TENURE_DAYS && recent && unseen {
            let years = tenure as f64 / 365.25;
            let (points, seen) = match i.last_touch {
                None => (25.0, "no call or meeting on record".to_string()),
                Some(t) => (20.0, format!("last call or meeting {} days ago ({})", i.as_of - t, iso(t))),
            };
            out.push(Reason {
                code: ReasonCode::LongUnseen,
                points,
                text: format!("known for {years:.1} years, not seen: {seen}"),
                evidence: vec![format!("first contact {}, last {}", iso(first), iso(last))],
            });
        }
    }
    out
}

/// need = min(100, Σ reason points) × (0.5 + strength / 200), rounded to 0.1.
pub fn need(reasons: &[Reason], strength: f64, established: bool) -> Need {
    let points = reasons.iter().map(|r| r.points).sum::<f64>().min(100.0);
    let weight = 0.5 + strength.clamp(0.0, 100.0) / 200.0;
    Need { score: round1(points * weight), points: round1(points), weight: round3(weight), established }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_parts_and_stage() {
        let s = strength(&StrengthInput {
            days_since_contact: Some(45),
            messages_365: 48,
            span_days: 365,
            we_answered: Some(1.0),
            they_answered: Some(0.5),
            reciprocity_threads: 6,
            active_contacts: 3,
            two_way_threads: 4,
            met: true,
            called: false,
        });
        // 20×0.75 + 20×(3.9/8) + 20×0.75 + 15×0.5 + 15×0.8 + 10×0.5
        assert_eq!((s.recency, s.frequency, s.reciprocity, s.breadth, s.depth, s.channel_mix), (0.75, 0.493, 0.75, 0.5, 0.8, 0.5));
        assert_eq!(s.score, 64.4);
        assert_eq!(stage(s.score), Stage::Engaged);
        let one = strength(&StrengthInput { days_since_contact: Some(400), messages_365: 0, span_days: 1, active_contacts: 1, ..Default::default() });
        assert_eq!((one.score, stage(one.score)), (0.0, Stage::Acquaintance));
        let thin = strength(&StrengthInput { they_answered: Some(1.0), reciprocity_threads: 1, ..Default::default() });
        assert_eq!(thin.reciprocity, 0.333, "one answered thread is a third of the part");
    }

    #[test]
    fn trends_need_a_minimum_of_data() {
        assert_eq!(trend(1, 3).label, "steady", "3 messages before are too few for a trend");
        assert_eq!(trend(2, 4).label, "dipping");
        assert_eq!(trend(3, 4).label, "steady");
        assert_eq!(trend(8, 4).label, "rising");
        assert_eq!(trend(2, 0).label, "new");
        let p = |scored, flagged| Period { scored, flagged, share: Some(flagged as f64 / scored as f64) };
        assert_eq!(tone_change(&p(1, 1), &p(1, 0)), (None, "unknown"), "one message in each period: no trend");
        assert_eq!(tone_change(&p(4, 2), &p(4, 0)), (Some(0.5), "rising"));
    }

    #[test]
    fn the_four_reasons() {
        let base = ReasonInput { as_of: 1000, unseen_days: 180, ..Default::default() };
        assert!(reasons(&base).is_empty());
        let r = reasons(&ReasonInput { last_90: 2, prev_90: 8, ..base.clone() });
        assert_eq!((r[0].code, r[0].points), (ReasonCode::Dipped, 30.0));
        assert_eq!(r[0].text, "business dipped: volume down 75% (8 → 2 messages)");
        assert!(reasons(&ReasonInput { last_90: 0, prev_90: 2, ..base.clone() }).is_empty(), "2 → 0 is too little data");
        let r = reasons(&ReasonInput { ours_last_90: (4, 1), ours_prev_90: (4, 4), ..base.clone() });
        assert_eq!((r[0].code, r[0].points), (ReasonCode::Dipped, 30.0));
        assert!(reasons(&ReasonInput { flagged: 1, ..base.clone() }).is_empty(), "one flagged message is no issue");
        let r = reasons(&ReasonInput { complaints: 1, unanswered: 1, flagged: 1, ..base.clone() });
        assert_eq!((r[0].code, r[0].points), (ReasonCode::Issue, 35.0));
        let r = reasons(&ReasonInput { complaints: 1, unapologised: 1, ..base.clone() });
        assert_eq!((r[0].points, r[0].text.as_str()), (30.0, "working through an issue: 1 complaint (1 answered without an apology)"));
        let r = reasons(&ReasonInput { last_90: 9, prev_90: 3, ..base.clone() });
        assert_eq!((r[0].code, r[0].points), (ReasonCode::BigProject, 25.0));
        let r = reasons(&ReasonInput { first_contact: Some(400), last_contact: Some(990), last_touch: Some(700), ..base.clone() });
        assert_eq!((r[0].code, r[0].points), (ReasonCode::LongUnseen, 20.0));
        assert!(reasons(&ReasonInput { first_contact: Some(400), last_contact: Some(990), last_touch: Some(900), ..base.clone() }).is_empty(), "met 100 days ago");
        assert!(reasons(&ReasonInput { first_contact: Some(-400), last_contact: Some(100), ..base }).is_empty(), "gone for 900 days: not a current relationship");
    }

    #[test]
    fn need_weighs_points_by_strength() {
        let r = reasons(&ReasonInput { as_of: 1000, unseen_days: 180, complaints: 1, unanswered: 1, ..Default::default() });
        assert_eq!(need(&r, 60.0, true).score, 24.0, "30 × 0.8");
        assert_eq!(need(&r, 0.0, true).score, 15.0);
        assert_eq!(need(&[], 90.0, true).score, 0.0);
    }
}
