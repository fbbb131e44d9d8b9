//! The accounts report as one self-contained HTML file (no scripts, fonts or images from anywhere
//! else): the headline, a chart of messages by month with axes, who most needs a call or a visit
//! (with each reason), complaints without an apology, unanswered messages, meetings without a
//! thank-you, the accounts (with a filter for email-only accounts, in CSS alone), a card with a
//! chart for each ranked account, and what was excluded and why.
use std::fmt::Write as _;

use super::{headline, pct, plural, reason_detail, touch};
use crate::accounts::{Account, Evidence, MessageRef, MonthRow, Report, Verdict};
use crate::report::escape_html as escape;

const STYLE: &str = r#"
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:76rem;padding:0 1rem;color:#1f2328}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
.muted{color:#656d76} table{border-collapse:collapse;width:100%} th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #d0d7de;vertical-align:top}
th{background:#f6f8fa;font-weight:600} td.num{font-variant-numeric:tabular-nums;text-align:right;white-space:nowrap}
ul.headline{padding-left:1.2rem} ul.headline li{margin:.2rem 0} .warning{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.5rem .8rem}
.reason{display:inline-block;font-size:.75rem;font-weight:600;padding:0 .4rem;border-radius:3px;margin-right:.3rem;white-space:nowrap}
.reason.dipped{background:#ffe2cc} .reason.issue{background:#ffd8d3} .reason.big_project{background:#d8f1ff} .reason.long_unseen{background:#e8e0ff}
ul.reasons{margin:0;padding-left:0;list-style:none} ul.reasons li{margin:.1rem 0}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
.card h3{margin:.1rem 0 .4rem;font-size:1rem} .charts{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}
.pair{margin:.6rem 0;padding:.5rem .8rem;border-left:3px solid #d0d7de} .pair p{margin:.2rem 0}
.filter{margin:.6rem 0} #only-email-only:checked ~ #accounts-table tr.account-row:not(.v-email_only){display:none}
td.v-email_only{color:#9a3412} ul.evidence{margin:.3rem 0;padding-left:1.2rem} ul.evidence li{margin:.15rem 0}
.legend span{display:inline-block;margin-right:1rem} .sw{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;vertical-align:middle;margin-right:.25rem}
details{margin:.3rem 0} summary{cursor:pointer}
"#;

const SENT: &str = "#57606a";
const RECEIVED: &str = "#afb8c1";
const MEETING: &str = "#2da44e";
const CALL: &str = "#0969da";

/// A round number at least `x`: 1, 2 or 5 times a power of ten.
fn nice_max(x: usize) -> usize {
    let x = x.max(1);
    let mut p = 1;
    loop {
        for m in [1, 2, 5] {
            if m * p >= x {
                return m * p;
            }
        }
        p *= 10;
    }
}

/// Messages by month as stacked bars (ours dark, theirs light) with a y axis (messages, three
/// ticks) and an x axis (months), and dots above a month with a meeting or a call.
fn month_chart(class: &str, label: &str, months: &[MonthRow], width: f64) -> String {
    let (h, left, right, top, bottom) = (190.0f64, 38.0f64, 8.0f64, 18.0f64, 34.0f64);
    let n = months.len().max(1);
    let plot_w = width - left - right;
    let plot_h = h - top - bottom;
    let step = plot_w / n as f64;
    let ymax = nice_max(months.iter().map(|m| m.emails).max().unwrap_or(0));
    let y = |v: f64| top + plot_h - plot_h * v / ymax as f64;
    let mut svg = format!(
        "<svg class=\"{class}\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {width} {h}\" width=\"{width}\" height=\"{h}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(label)
    );
    // The y axis: ticks at 0, half and the top, with grid lines.
    let _ = write!(svg, "<g class=\"y-axis\"><line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{:.1}\" stroke=\"#57606a\"/>", top + plot_h);
    let mut ticks = vec![0, ymax];
    if ymax.is_multiple_of(2) && ymax > 1 {
        ticks.insert(1, ymax / 2);
    }
    for t in ticks {
        let ty = y(t as f64);
        let _ = write!(
            svg,
            "<line x1=\"{:.1}\" y1=\"{ty:.1}\" x2=\"{:.1}\" y2=\"{ty:.1}\" stroke=\"#d0d7de\"/><text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#57606a\">{t}</text>",
            left - 3.0,
            width - right,
            left - 5.0,
            ty + 3.5
        );
    }
    let _ = write!(
        svg,
        "<text x=\"10\" y=\"{:.1}\" font-size=\"10\" fill=\"#57606a\" transform=\"rotate(-90 10 {:.1})\" text-anchor=\"middle\">messages</text></g>",
        top + plot_h / 2.0,
        top + plot_h / 2.0
    );
    // The x axis.
    let base = top + plot_h;
    let _ = write!(svg, "<g class=\"x-axis\"><line x1=\"{left}\" y1=\"{base:.1}\" x2=\"{:.1}\" y2=\"{base:.1}\" stroke=\"#57606a\"/>", width - right);
    for (i, m) in months.iter().enumerate() {
        if i % 2 == (n - 1) % 2 || n <= 6 {
            let _ = write!(
                svg,
                "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#57606a\">{}</text>",
                left + step * (i as f64 + 0.5),
                base + 13.0,
                escape(&m.month)
            );
        }
    }
    let _ = write!(svg, "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#57606a\">month</text></g>", left + plot_w / 2.0, h - 4.0);
    for (i, m) in months.iter().enumerate() {
        let x = left + step * i as f64 + step * 0.15;
        let w = step * 0.7;
        let title = format!("{}: {} sent, {} received, {} meetings, {} calls", m.month, m.sent, m.received, m.meetings, m.calls);
        let _ = write!(svg, "<g class=\"bar\"><title>{}</title>", escape(&title));
        let (ys, yr) = (y(m.sent as f64), y((m.sent + m.received) as f64));
        if m.sent > 0 {
            let _ = write!(svg, "<rect class=\"sent\" x=\"{x:.1}\" y=\"{ys:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{SENT}\"/>", base - ys);
        }
        if m.received > 0 {
            let _ = write!(svg, "<rect class=\"received\" x=\"{x:.1}\" y=\"{yr:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{RECEIVED}\"/>", ys - yr);
        }
        let mut dy = 0.0;
        for (count, colour, what) in [(m.meetings, MEETING, "meeting"), (m.calls, CALL, "call")] {
            if count > 0 {
                let _ = write!(svg, "<circle class=\"{what}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{colour}\"/>", x + w / 2.0, top - 8.0 + dy);
                dy += 9.0;
            }
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

fn legend() -> String {
    format!(
        "<p class=\"legend muted\"><span><i class=\"sw\" style=\"background:{SENT}\"></i>sent by us</span><span><i class=\"sw\" style=\"background:{RECEIVED}\"></i>received from them</span><span><i class=\"sw\" style=\"background:{MEETING};border-radius:50%\"></i>a meeting</span><span><i class=\"sw\" style=\"background:{CALL};border-radius:50%\"></i>a call</span></p>"
    )
}

fn message_line(m: &MessageRef, sentence: &str) -> String {
    format!(
        "<b>{}</b> <span class=\"muted\">{} · {}</span><br>\u{201c}{}\u{201d}",
        escape(m.date.as_deref().unwrap_or("undated")),
        escape(m.subject.as_deref().unwrap_or("(no subject)")),
        escape(m.from.as_deref().unwrap_or("")),
        escape(sentence)
    )
}

fn evidence_line(e: &Evidence) -> String {
    let from = match (&e.message, &e.file) {
        (Some(m), _) => format!("{} ({})", m.subject.as_deref().unwrap_or("(no subject)"), m.date.as_deref().unwrap_or("undated")),
        (None, Some(f)) => f.clone(),
        _ => String::new(),
    };
    let mut s = format!(
        "<li><b>{}</b> {} <span class=\"muted\">{} · {} · {}</span>",
        escape(&e.date),
        escape(e.channel.as_str()),
        escape(e.source.as_str()),
        escape(e.status.as_str()),
        escape(&from)
    );
    match &e.sentence {
        Some(sent) => {
            let _ = write!(s, "<br>\u{201c}{}\u{201d}", escape(sent));
        }
        None => {
            let _ = write!(s, "<br>{}", escape(&e.detail));
        }
    }
    if let Some(n) = &e.note {
        let _ = write!(s, " <span class=\"muted\">— {}</span>", escape(n));
    }
    s.push_str("</li>");
    s
}

fn anchor(a: &Account) -> String {
    format!("acc-{}", crate::text::sha256_hex(a.account.as_bytes()).get(..12).unwrap_or("x"))
}

fn card(h: &mut String, rep: &Report, a: &Account) {
    let _ = write!(
        h,
        "<div class=\"card account\" id=\"{}\"><h3>{}. {} <span class=\"muted\">{} · {} · {} · strength {:.0}, {} · need {:.1}</span></h3>",
        anchor(a),
        a.need_rank.unwrap_or(0),
        escape(&a.account),
        escape(&a.domains.join(", ")),
        plural(a.contacts.len(), "contact"),
        a.verdict.as_str().replace('_', " "),
        a.strength.score,
        a.stage.as_str(),
        a.need.score
    );
    h.push_str("<ul class=\"reasons\">");
    for r in &a.reasons {
        let _ = write!(h, "<li><span class=\"reason {}\">{}</span>{} <span class=\"muted\">({})</span></li>", r.code.as_str(), escape(r.code.label()), escape(reason_detail(r)), escape(&r.evidence.join("; ")));
    }
    h.push_str("</ul>");
    let _ = write!(h, "<div class=\"charts\">{}</div>", month_chart("volume", &format!("Messages by month with {}", a.account), &a.months, 460.0));
    let r = &a.reciprocity;
    let _ = write!(
        h,
        "<p>Threads: {} ({} started by them, {} by us, {} two-way). We answered {} of theirs; they answered {} of ours; our median answer time {}. Last contact {}; last call or meeting {}. {}</p>",
        a.threads.total,
        a.threads.started_by_them,
        a.threads.started_by_us,
        a.threads.two_way,
        pct(r.we_answered_share),
        pct(r.they_answered_share),
        r.median_reply_hours.map(|h| format!("{h:.1} h")).unwrap_or_else(|| "-".into()),
        escape(a.last_contact.as_deref().unwrap_or("-")),
        escape(&touch(a.last_touch.as_ref())),
        if rep.senders.len() > 1 { format!("Our side: {}.", escape(&a.our_senders.join(", "))) } else { String::new() }
    );
    if !a.evidence.is_empty() {
        h.push_str("<details><summary>Calls and meetings found</summary><ul class=\"evidence\">");
        for e in &a.evidence {
            h.push_str(&evidence_line(e));
        }
        h.push_str("</ul></details>");
    }
    h.push_str("</div>");
}

pub fn render(rep: &Report) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>rapport accounts</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        h,
        "<h1>rapport accounts</h1><p class=\"muted\">as of {} ({}) · window {} days · {} messages ({} sent, {} received) · {} · model {}</p>",
        escape(&rep.as_of),
        escape(&rep.as_of_basis),
        rep.window_days,
        rep.inputs.messages,
        rep.inputs.sent,
        rep.inputs.received,
        escape(&rep.state),
        escape(&rep.model_id)
    );
    h.push_str("<ul class=\"headline\" id=\"headline\">");
    for line in headline(rep) {
        let _ = write!(h, "<li>{}</li>", escape(&line));
    }
    h.push_str("</ul>");
    for w in &rep.warnings {
        let _ = write!(h, "<p class=\"warning\">{}</p>", escape(w));
    }
    if rep.senders.len() > 1 {
        let _ = write!(h, "<p class=\"muted\" id=\"senders\">Our side, {} senders: {}</p>", rep.senders.len(), escape(&rep.senders.join(", ")));
    }

    // Messages by month, all accounts together.
    if let Some(first) = rep.accounts.first() {
        let mut total: Vec<MonthRow> = first.months.iter().map(|m| MonthRow { month: m.month.clone(), emails: 0, sent: 0, received: 0, meetings: 0, calls: 0 }).collect();
        for a in &rep.accounts {
            for (t, m) in total.iter_mut().zip(&a.months) {
                t.emails += m.emails;
                t.sent += m.sent;
                t.received += m.received;
                t.meetings += m.meetings;
                t.calls += m.calls;
            }
        }
        let _ = write!(h, "<h2>Messages with customers by month</h2>{}{}", month_chart("overview", "Messages with all customer accounts by month", &total, 720.0), legend());
    }

    h.push_str("<h2 id=\"needs\">Who most needs a call or a visit</h2>");
    if rep.needs_attention.is_empty() {
        h.push_str("<p>No account shows a reason: no dip, no open issue, no surge, nobody known for long and not seen.</p>");
    } else {
        h.push_str("<p class=\"muted\">Score = the reasons' points (at most 100) × (0.5 + strength / 200); ties share a place. See docs/accounts.md.</p>");
        h.push_str("<table id=\"needs-table\"><thead><tr><th>#</th><th>account</th><th>score</th><th>strength</th><th>last 90 days</th><th>why</th></tr></thead><tbody>");
        for n in &rep.needs_attention {
            let a = rep.accounts.iter().find(|a| a.account == n.account);
            let link = a.map(anchor).unwrap_or_default();
            let _ = write!(
                h,
                "<tr class=\"need-row\"><td class=\"num\">{}</td><td><a href=\"#{link}\">{}</a></td><td class=\"num\">{:.1}</td><td class=\"num\">{:.0} <span class=\"muted\">{}</span></td><td>{}</td><td><ul class=\"reasons\">",
                n.rank,
                escape(&n.account),
                n.score,
                n.strength,
                n.stage.as_str(),
                a.map(|a| format!("{} sent, {} received{}", a.emails.sent_window, a.emails.received_window, if n.verdict == Verdict::EmailOnly { ", email only" } else { "" })).unwrap_or_default()
            );
            for r in &n.reasons {
                let _ = write!(h, "<li><span class=\"reason {}\">{}</span>{}</li>", r.code.as_str(), escape(r.code.label()), escape(reason_detail(r)));
            }
            h.push_str("</ul></td></tr>");
        }
        h.push_str("</tbody></table>");
    }

    if !rep.complaints_without_apology.is_empty() {
        h.push_str("<h2 id=\"complaints\">Complaints answered without an apology</h2>");
        for c in &rep.complaints_without_apology {
            let _ = write!(
                h,
                "<div class=\"pair complaint\"><p><b>{}</b> wrote {}</p><p>We answered {}</p></div>",
                escape(&c.account),
                message_line(&c.complaint.message, &c.complaint.sentence),
                message_line(&c.reply.message, &c.reply.sentence)
            );
        }
    }
    if !rep.unanswered.is_empty() {
        let _ = write!(h, "<h2 id=\"unanswered\">Unanswered after {} business days</h2><ul>", rep.settings.unanswered_business_days);
        for u in &rep.unanswered {
            let _ = write!(
                h,
                "<li class=\"unanswered\"><b>{}</b>, {} business days{}: {}</li>",
                escape(&u.account),
                u.business_days,
                if u.complaint { ", a complaint" } else { "" },
                message_line(&u.message, &u.sentence)
            );
        }
        h.push_str("</ul>");
    }
    if !rep.thanks_after_meeting.is_empty() {
        h.push_str("<h2 id=\"thanks\">No thank-you within two days after the last meeting</h2><ul>");
        for t in &rep.thanks_after_meeting {
            let _ = write!(
                h,
                "<li class=\"thanks\"><b>{}</b>: meeting on {}, nothing sent by {}.<br><span class=\"muted\">{}</span></li>",
                escape(&t.account),
                escape(&t.meeting_date),
                escape(&t.follow_up_by),
                escape(&t.reminder)
            );
        }
        h.push_str("</ul>");
    }

    // Every account, with a filter for the email-only ones (CSS alone).
    let several = rep.senders.len() > 1;
    let _ = write!(
        h,
        "<h2>Accounts</h2><section id=\"accounts\"><input type=\"checkbox\" id=\"only-email-only\" class=\"filter\"><label for=\"only-email-only\"> show only the {} email-only accounts</label>",
        rep.summary.email_only
    );
    let _ = write!(
        h,
        "<table id=\"accounts-table\"><thead><tr><th>account</th><th>kind</th><th>last {} days</th><th>sent / received</th><th>strength</th><th>they answer</th><th>last contact</th><th>last call/meeting</th>{}</tr></thead><tbody>",
        rep.window_days,
        if several { "<th>our side</th>" } else { "" }
    );
    let mut rows: Vec<&Account> = rep.accounts.iter().collect();
    rows.sort_by(|a, b| a.need_rank.unwrap_or(usize::MAX).cmp(&b.need_rank.unwrap_or(usize::MAX)).then(b.emails.total.cmp(&a.emails.total)).then(a.account.cmp(&b.account)));
    for a in rows {
        let v = a.verdict.as_str();
        let name = if a.need_rank.is_some() { format!("<a href=\"#{}\">{}</a>", anchor(a), escape(&a.account)) } else { escape(&a.account) };
        let kind = serde_json::to_value(a.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let _ = write!(
            h,
            "<tr class=\"account-row v-{v}\"><td>{name}</td><td>{}</td><td class=\"v-{v}\">{}</td><td class=\"num\">{} / {}</td><td class=\"num\">{:.0} <span class=\"muted\">{}</span></td><td class=\"num\">{}</td><td>{}</td><td>{}</td>{}</tr>",
            escape(&kind),
            v.replace('_', " "),
            a.emails.sent,
            a.emails.received,
            a.strength.score,
            a.stage.as_str(),
            escape(&pct(a.reciprocity.they_answered_share)),
            escape(a.last_contact.as_deref().unwrap_or("-")),
            escape(&touch(a.last_touch.as_ref())),
            if several { format!("<td>{}</td>", escape(&a.our_senders.join(", "))) } else { String::new() }
        );
    }
    h.push_str("</tbody></table></section>");

    // A card for each ranked account.
    let mut ranked: Vec<&Account> = rep.accounts.iter().filter(|a| a.need_rank.is_some()).collect();
    ranked.sort_by(|a, b| a.need_rank.cmp(&b.need_rank).then(a.account.cmp(&b.account)));
    if !ranked.is_empty() {
        let _ = write!(h, "<h2>The accounts to call or visit</h2>{}", legend());
        for a in ranked {
            card(&mut h, rep, a);
        }
    }

    if !rep.excluded.is_empty() {
        let _ = write!(h, "<h2 id=\"excluded\">Not customers ({})</h2>", rep.excluded.len());
        let mut start = 0;
        while start < rep.excluded.len() {
            let reason = rep.excluded[start].reason;
            let end = rep.excluded[start..].iter().position(|e| e.reason != reason).map_or(rep.excluded.len(), |p| start + p);
            let _ = write!(h, "<details class=\"excluded {}\"><summary>{} ({})</summary><ul>", reason.as_str(), escape(reason.label()), end - start);
            for e in &rep.excluded[start..end] {
                let _ = write!(h, "<li><b>{}</b>: {}, {}</li>", escape(e.address.as_deref().unwrap_or(&e.account)), escape(&e.detail), plural(e.messages, "message"));
            }
            h.push_str("</ul></details>");
            start = end;
        }
    }
    if !rep.notes.is_empty() {
        h.push_str("<h2>Notes</h2><ul>");
        for n in &rep.notes {
            let _ = write!(h, "<li>{}</li>", escape(n));
        }
        h.push_str("</ul>");
    }
    h.push_str("</body></html>\n");
    h
}
