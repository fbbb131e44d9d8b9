//! The two formulas of the accounts report, documented in docs/accounts.md: how much an account
//! needs a call or a visit (0–100), and its relationship stage.

/// What the need score reads.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NeedInput {
    /// Emails in the window, and no call or meeting in it.
    pub email_only: bool,
    /// Emails in the last 90 days and in the 90 before.
    pub last_90: usize,
    pub prev_90: usize,
    /// Flagged share (0–1) in the last 90 days and the 90 before, when each had scored mail.
    pub flagged_last: Option<f64>,
    pub flagged_prev: Option<f64>,
    /// Days since the last call or meeting that happened; None when there never was one.
    pub days_since_touch: Option<i64>,
}

/// The need score and its parts, each rounded to 0.1.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Need {
    pub score: f64,
    pub email_only: f64,
    pub dipping: f64,
    pub flagged_rising: f64,
    pub since_last_touch: f64,
}

pub const EMAIL_ONLY_POINTS: f64 = 40.0;
pub const DIP_POINTS: f64 = 20.0;
pub const FLAGGED_POINTS: f64 = 20.0;
pub const TOUCH_POINTS: f64 = 20.0;
/// Days without a call or meeting that earn all of `TOUCH_POINTS`.
pub const TOUCH_FULL_DAYS: f64 = 180.0;

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// need = 40 × email_only
///      + 20 × clamp((prev_90 − last_90) / prev_90, 0, 1)                (0 when prev_90 = 0)
///      + 20 × clamp(2 × (flagged_last − flagged_prev), 0, 1)            (0 without both shares)
///      + 20 × min(days since the last call or meeting, 180) / 180        (20 when there was none)
pub fn need(i: &NeedInput) -> Need {
    let email_only = if i.email_only { EMAIL_ONLY_POINTS } else { 0.0 };
    let dipping = if i.prev_90 > 0 {
        DIP_POINTS * ((i.prev_90 as f64 - i.last_90 as f64) / i.prev_90 as f64).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let flagged_rising = match (i.flagged_last, i.flagged_prev) {
        (Some(l), Some(p)) => FLAGGED_POINTS * (2.0 * (l - p)).clamp(0.0, 1.0),
        _ => 0.0,
    };
    let since_last_touch = match i.days_since_touch {
        Some(d) => TOUCH_POINTS * (d.max(0) as f64).min(TOUCH_FULL_DAYS) / TOUCH_FULL_DAYS,
        None => TOUCH_POINTS,
    };
    let (email_only, dipping, flagged_rising, since_last_touch) = (round1(email_only), round1(dipping), round1(flagged_rising), round1(since_last_touch));
    Need { score: round1(email_only + dipping + flagged_rising + since_last_touch), email_only, dipping, flagged_rising, since_last_touch }
}

/// Relationship stages, from the first contact to the closest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageName {
    Acquaintance,
    Friend,
    Dating,
    Engaged,
    Married,
}

impl StageName {
    pub fn as_str(self) -> &'static str {
        match self {
            StageName::Acquaintance => "acquaintance",
            StageName::Friend => "friend",
            StageName::Dating => "dating",
            StageName::Engaged => "engaged",
            StageName::Married => "married",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Stage {
    pub name: StageName,
    pub points: u32,
    pub tenure_days: i64,
    pub tenure_points: u32,
    /// Emails a month over the last 365 days (or since the first contact, when that is shorter,
    /// but over at least 30 days).
    pub emails_per_month: f64,
    pub frequency_points: u32,
    /// Channels other than email (meeting, call) with something that happened in the last 365 days.
    pub other_channels: u32,
    pub variety_points: u32,
}

/// tenure points: < 90 days 0, < 365 days 1, < 730 days 2, else 3;
/// frequency points (emails a month): < 1 → 0, < 4 → 1, < 12 → 2, else 3;
/// variety points: the number of other channels used (meeting, call): 0–2.
/// points 0–1 acquaintance, 2–3 friend, 4–5 dating, 6 engaged, 7–8 married; an account reached
/// by email alone (variety 0) is at most a friend.
pub fn stage(tenure_days: i64, emails_365: usize, other_channels: u32) -> Stage {
    let tenure_days = tenure_days.max(0);
    let tenure_points = match tenure_days {
        d if d < 90 => 0,
        d if d < 365 => 1,
        d if d < 730 => 2,
        _ => 3,
    };
    // At least a month, so that a new account's first emails do not read as a torrent.
    let span = (tenure_days + 1).clamp(30, 365) as f64;
    let emails_per_month = round1(emails_365 as f64 * 30.0 / span);
    let frequency_points = match emails_per_month {
        r if r < 1.0 => 0,
        r if r < 4.0 => 1,
        r if r < 12.0 => 2,
        _ => 3,
    };
    let variety_points = other_channels.min(2);
    let points = tenure_points + frequency_points + variety_points;
    let mut name = match points {
        0..=1 => StageName::Acquaintance,
        2..=3 => StageName::Friend,
        4..=5 => StageName::Dating,
        6 => StageName::Engaged,
        _ => StageName::Married,
    };
    if variety_points == 0 && name > StageName::Friend {
        name = StageName::Friend;
    }
    Stage { name, points, tenure_days, tenure_points, emails_per_month, frequency_points, other_channels, variety_points }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn need_score_parts() {
        // Email only, volume halved (10 → 5), flagged share up 10 points, no call or meeting ever.
        let n = need(&NeedInput {
            email_only: true,
            last_90: 5,
            prev_90: 10,
            flagged_last: Some(0.3),
            flagged_prev: Some(0.2),
            days_since_touch: None,
        });
        assert_eq!((n.email_only, n.dipping, n.flagged_rising, n.since_last_touch, n.score), (40.0, 10.0, 4.0, 20.0, 74.0));
        // A met account with growing volume and falling flagged share, met 45 days ago.
        let n = need(&NeedInput {
            email_only: false,
            last_90: 12,
            prev_90: 6,
            flagged_last: Some(0.0),
            flagged_prev: Some(0.5),
            days_since_touch: Some(45),
        });
        assert_eq!((n.dipping, n.flagged_rising, n.since_last_touch, n.score), (0.0, 0.0, 5.0, 5.0));
        // Gone silent: everything in the 90 days before, nothing since; shares need both periods.
        let n = need(&NeedInput { last_90: 0, prev_90: 4, flagged_last: None, flagged_prev: Some(0.0), days_since_touch: Some(400), ..Default::default() });
        assert_eq!((n.dipping, n.flagged_rising, n.since_last_touch, n.score), (20.0, 0.0, 20.0, 40.0));
        // The flagged part saturates at +50 points.
        let n = need(&NeedInput { flagged_last: Some(0.9), flagged_prev: Some(0.1), days_since_touch: Some(0), ..Default::default() });
        assert_eq!((n.flagged_rising, n.score), (20.0, 20.0));
    }

    #[test]
    fn stages() {
        assert_eq!(stage(10, 2, 0).name, StageName::Acquaintance, "new, a couple of emails");
        assert_eq!(stage(200, 24, 0).name, StageName::Friend, "regular email, capped at friend without another channel");
        assert_eq!(stage(800, 200, 0).name, StageName::Friend, "email alone never goes past friend");
        let s = stage(200, 24, 1);
        assert_eq!((s.tenure_points, s.frequency_points, s.variety_points, s.points, s.name), (1, 1, 1, 3, StageName::Friend));
        assert_eq!(stage(400, 60, 1).name, StageName::Dating, "2 + 2 + 1");
        assert_eq!(stage(400, 60, 2).name, StageName::Engaged, "2 + 2 + 2");
        assert_eq!(stage(800, 200, 2).name, StageName::Married, "3 + 3 + 2");
        assert_eq!(stage(800, 200, 1).name, StageName::Married, "3 + 3 + 1");
        let s = stage(29, 3, 0);
        assert_eq!(s.emails_per_month, 3.0, "a month old: 3 emails in 30 days");
    }
}
