//! The accounts report for a terminal: the headline, who most needs a call or a visit and why,
//! complaints without an apology, unanswered messages, meetings without a thank-you, the accounts,
//! what was excluded, notes and warnings.
use std::fmt::Write as _;

use super::{headline, pct, plural, touch};
use crate::accounts::{Account, Report};
use crate::text::one_line;

/// Excluded entries shown per reason (the JSON lists them all).
const EXCLUDED_SHOWN: usize = 5;

/// The accounts in the table's order: neediest first, then most messages in the window, then by
/// name.
fn table_order(rep: &Report) -> Vec<&Account> {
    let mut v: Vec<&Account> = rep.accounts.iter().collect();
    v.sort_by(|a, b| {
        a.need_rank
            .unwrap_or(usize::MAX)
            .cmp(&b.need_rank.unwrap_or(usize::MAX))
            .then(b.emails.window.cmp(&a.emails.window))
            .then(b.emails.total.cmp(&a.emails.total))
            .then(a.account.cmp(&b.account))
    });
    v
}

fn quoted(date: Option<&str>, subject: Option<&str>, sentence: &str) -> String {
    format!("{} {:?}: \u{201c}{}\u{201d}", date.unwrap_or("undated"), one_line(subject.unwrap_or("(no subject)"), 40), one_line(sentence, 90))
}

pub fn render(rep: &Report, top: usize) -> String {
    let mut s = String::new();
    let i = &rep.inputs;
    let basis = match rep.as_of_basis.as_str() {
        "latest" => " (the newest message)",
        "today" => " (today)",
        _ => "",
    };
    let _ = writeln!(
        s,
        "rapport accounts — as of {}{basis}, window {} days; {} messages ({} sent, {} received) in {}",
        rep.as_of, rep.window_days, i.messages, i.sent, i.received, rep.state
    );
    for line in headline(rep) {
        let _ = writeln!(s, "{line}");
    }
    for w in &rep.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    let mut internal: Vec<&str> = rep.internal.domains.iter().chain(&rep.internal.addresses).map(String::as_str).collect();
    internal.sort();
    let _ = writeln!(
        s,
        "internal: {}{}",
        if internal.is_empty() { "(none)".to_string() } else { internal.join(", ") },
        if rep.internal.inferred { " (inferred from the senders; set with --our-domain)" } else { "" }
    );

    if !rep.needs_attention.is_empty() {
        let _ = writeln!(s, "\nMost need a call or a visit (score = reasons' points × (0.5 + strength/200); docs/accounts.md):");
        for n in rep.needs_attention.iter().take(top) {
            let _ = writeln!(s, "{:>3}. {:>5.1}  {} ({}, strength {:.0}, {})", n.rank, n.score, n.account, n.verdict.as_str(), n.strength, n.stage.as_str());
            for r in &n.reasons {
                let _ = writeln!(s, "           - {}", r.text);
            }
        }
        if rep.needs_attention.len() > top {
            let _ = writeln!(s, "     … {} more (--top N, or --format json)", rep.needs_attention.len() - top);
        }
    }
    if !rep.complaints_without_apology.is_empty() {
        let _ = writeln!(s, "\nComplaints answered without an apology or acknowledgement:");
        for c in &rep.complaints_without_apology {
            let m = &c.complaint.message;
            let r = &c.reply.message;
            let _ = writeln!(s, "  {}: they wrote {}", c.account, quoted(m.date.as_deref(), m.subject.as_deref(), &c.complaint.sentence));
            let _ = writeln!(s, "      we answered {}", quoted(r.date.as_deref(), r.subject.as_deref(), &c.reply.sentence));
        }
    }
    if !rep.unanswered.is_empty() {
        let _ = writeln!(s, "\nUnanswered after {} business days or more:", rep.settings.unanswered_business_days);
        for u in &rep.unanswered {
            let _ = writeln!(
                s,
                "  {}: {} ({} business days{})",
                u.account,
                quoted(u.message.date.as_deref(), u.message.subject.as_deref(), &u.sentence),
                u.business_days,
                if u.complaint { ", a complaint" } else { "" }
            );
        }
    }
    if !rep.thanks_after_meeting.is_empty() {
        let _ = writeln!(s, "\nNo email within two days after the last meeting:");
        for t in &rep.thanks_after_meeting {
            let what = t.meeting.message.as_ref().and_then(|m| m.subject.clone()).or_else(|| t.meeting.file.clone()).unwrap_or_default();
            let _ = writeln!(s, "  {}: meeting on {} ({}), nothing sent by {}", t.account, t.meeting_date, one_line(&what, 50), t.follow_up_by);
            let _ = writeln!(s, "      reminder: {}", t.reminder);
        }
    }

    if rep.accounts.is_empty() {
        let _ = writeln!(s, "\nNo customer accounts up to {}.", rep.as_of);
    } else {
        let several = rep.senders.len() > 1;
        let _ = writeln!(s);
        let _ = write!(
            s,
            "{:<30} {:<10} {:>9} {:>9} {:>8} {:<12} {:>11} {:<10} {:<18}",
            "account", "verdict", "90d s/r", "total s/r", "strength", "stage", "they answer", "last", "last call/meeting"
        );
        if several {
            let _ = write!(s, " our side");
        }
        let _ = writeln!(s);
        for a in table_order(rep) {
            let sr = |x: usize, y: usize| format!("{x}/{y}");
            let _ = write!(
                s,
                "{:<30} {:<10} {:>9} {:>9} {:>8.1} {:<12} {:>11} {:<10} {:<18}",
                one_line(&a.account, 30),
                a.verdict.as_str(),
                sr(a.emails.sent_window, a.emails.received_window),
                sr(a.emails.sent, a.emails.received),
                a.strength.score,
                a.stage.as_str(),
                pct(a.reciprocity.they_answered_share),
                a.last_contact.as_deref().unwrap_or("-"),
                touch(a.last_touch.as_ref())
            );
            if several {
                let _ = write!(s, " {}", a.our_senders.join(", "));
            }
            let _ = writeln!(s);
        }
    }

    if !rep.excluded.is_empty() {
        let _ = writeln!(s, "\nNot customers ({}):", rep.excluded.len());
        let mut start = 0;
        while start < rep.excluded.len() {
            let reason = rep.excluded[start].reason;
            let end = rep.excluded[start..].iter().position(|e| e.reason != reason).map_or(rep.excluded.len(), |p| start + p);
            let _ = writeln!(s, "  {} ({}):", reason.label(), end - start);
            for e in &rep.excluded[start..end.min(start + EXCLUDED_SHOWN)] {
                let who = e.address.as_deref().unwrap_or(&e.account);
                if e.address.is_some() {
                    let _ = writeln!(s, "    {who}: {} ({})", e.detail, plural(e.messages, "message"));
                } else {
                    let _ = writeln!(s, "    {who}: {}", e.detail);
                }
            }
            if end - start > EXCLUDED_SHOWN {
                let _ = writeln!(s, "    … {} more (--format json)", end - start - EXCLUDED_SHOWN);
            }
            start = end;
        }
    }
    if !rep.notes.is_empty() {
        s.push('\n');
    }
    for n in &rep.notes {
        let _ = writeln!(s, "note: {n}");
    }
    // No trailing blanks from the padded columns.
    s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n") + "\n"
}
