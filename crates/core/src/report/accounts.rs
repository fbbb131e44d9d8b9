//! The accounts report (`rapport accounts`) as a terminal table, JSON (schema in docs/accounts.md),
//! CSV (one row per account) or one self-contained HTML file with inline SVG charts (volume by
//! month and channel mix per account; no scripts, fonts or images from anywhere else).
use std::fmt::Write as _;
use std::io::Write;

use super::escape_html as escape;
use super::Format as ReportFormat;
use crate::accounts::{Account, Evidence, Report};
use crate::text::{csv_cell as csv_field, one_line};

pub fn render(out: &mut dyn Write, rep: &Report, format: ReportFormat, top: usize) -> anyhow::Result<()> {
    match format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, rep)?;
            writeln!(out)?;
        }
        ReportFormat::Csv => out.write_all(csv(rep).as_bytes())?,
        ReportFormat::Table => out.write_all(table(rep, top).as_bytes())?,
        ReportFormat::Html => out.write_all(html(rep).as_bytes())?,
    }
    Ok(())
}

fn opt_f(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.3}")).unwrap_or_default()
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "-".into())
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn touch(e: Option<&Evidence>) -> String {
    e.map(|e| format!("{} {}", e.date, e.channel.as_str())).unwrap_or_else(|| "never".into())
}

pub const CSV_HEADER: &str = "account,kind,verdict,contacts,emails_30,emails_90,emails_365,emails_window,emails_prev_90,trend,trend_change,threads,last_email,last_touch_date,last_touch_channel,meetings_window,calls_window,flagged_share,flagged_trend,last_thanked,reactive_share,sales_share,check_in_share,stage,need_score,need_rank";

/// One row per account, by account.
pub fn csv(rep: &Report) -> String {
    let mut s = String::new();
    s.push_str(CSV_HEADER);
    s.push('\n');
    for a in &rep.accounts {
        let kind = serde_json::to_value(a.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let fields = [
            csv_field(&a.account),
            kind,
            a.verdict.as_str().to_string(),
            a.contacts.len().to_string(),
            a.emails.last_30.to_string(),
            a.emails.last_90.to_string(),
            a.emails.last_365.to_string(),
            a.emails.window.to_string(),
            a.trend.prev_90.to_string(),
            a.trend.label.to_string(),
            opt_f(a.trend.change),
            a.threads.to_string(),
            a.last_email.clone().unwrap_or_default(),
            a.last_touch.as_ref().map(|e| e.date.clone()).unwrap_or_default(),
            a.last_touch.as_ref().map(|e| e.channel.as_str().to_string()).unwrap_or_default(),
            a.channel_mix.meeting.to_string(),
            a.channel_mix.call.to_string(),
            opt_f(a.tone.window.share),
            a.tone.label.to_string(),
            a.last_thanked.as_ref().map(|t| t.date.clone()).unwrap_or_default(),
            opt_f(a.intent.reactive_share),
            opt_f(a.intent.sales_share),
            opt_f(a.intent.check_in_share),
            a.stage.name.as_str().to_string(),
            format!("{:.1}", a.need.score),
            a.need_rank.map(|r| r.to_string()).unwrap_or_default(),
        ];
        s.push_str(&fields.join(","));
        s.push('\n');
    }
    s
}

fn summary_line(rep: &Report) -> String {
    let s = &rep.summary;
    format!(
        "{} accounts: {} email only ({} of the {} with email in the last {} days), {} mixed, {} calls/meetings only, {} inactive; {} dipping",
        s.accounts,
        s.email_only,
        pct(s.email_only_share),
        s.active,
        rep.window_days,
        s.mixed,
        s.other_only,
        s.inactive,
        s.dipping
    )
}

/// The accounts in the table's order: most emails in the window first, then by name.
fn table_order(rep: &Report) -> Vec<&Account> {
    let mut v: Vec<&Account> = rep.accounts.iter().collect();
    v.sort_by(|a, b| b.emails.window.cmp(&a.emails.window).then(b.emails.total.cmp(&a.emails.total)).then(a.account.cmp(&b.account)));
    v
}

pub fn table(rep: &Report, top: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "rapport accounts — as of {}, window {} days; {} messages in {}",
        rep.as_of, rep.window_days, rep.inputs.messages, rep.state
    );
    let _ = writeln!(s, "{}", summary_line(rep));
    let mut internal: Vec<&str> = rep.internal.domains.iter().chain(&rep.internal.addresses).map(String::as_str).collect();
    internal.sort();
    let _ = writeln!(
        s,
        "internal: {}{}\n",
        if internal.is_empty() { "(none)".to_string() } else { internal.join(", ") },
        if rep.internal.inferred { " (inferred from the senders; set with --our-domain)" } else { "" }
    );
    if rep.accounts.is_empty() {
        let _ = writeln!(s, "No customer accounts: no message up to {} went to anyone outside the internal domains.", rep.as_of);
    } else {
        let _ = writeln!(
            s,
            "{:<30} {:<11} {:>4} {:>4} {:>5} {:<8} {:>8} {:>7} {:<10} {:<18} {:>7} {:<12}",
            "account", "verdict", "30d", "90d", "365d", "trend", "contacts", "threads", "last email", "last call/meeting", "flagged", "stage"
        );
        for a in table_order(rep) {
            let _ = writeln!(
                s,
                "{:<30} {:<11} {:>4} {:>4} {:>5} {:<8} {:>8} {:>7} {:<10} {:<18} {:>7} {:<12}",
                one_line(&a.account, 30),
                a.verdict.as_str(),
                a.emails.last_30,
                a.emails.last_90,
                a.emails.last_365,
                a.trend.label,
                a.contacts.len(),
                a.threads,
                a.last_email.as_deref().unwrap_or("-"),
                touch(a.last_touch.as_ref()),
                pct(a.tone.window.share),
                a.stage.name.as_str()
            );
        }
    }
    if !rep.needs_attention.is_empty() {
        let _ = writeln!(s, "\nMost need a call or a visit (score 0–100, see docs/accounts.md):");
        for n in rep.needs_attention.iter().take(top) {
            let _ = writeln!(s, "{:>3}. {:>5.1}  {}: {}", n.rank, n.score, n.account, n.reasons.join("; "));
        }
        if rep.needs_attention.len() > top {
            let _ = writeln!(s, "     … {} more (--top N, or --format json)", rep.needs_attention.len() - top);
        }
    }
    if !rep.thanks_after_meeting.is_empty() {
        let _ = writeln!(s, "\nNo email within two days after the last meeting:");
        for t in &rep.thanks_after_meeting {
            let what = t
                .meeting
                .message
                .as_ref()
                .and_then(|m| m.subject.clone())
                .or_else(|| t.meeting.file.clone())
                .unwrap_or_default();
            let _ = writeln!(s, "  {}: meeting on {} ({}), nothing sent by {}", t.account, t.meeting_date, one_line(&what, 50), t.follow_up_by);
        }
    }
    if !rep.notes.is_empty() || !rep.warnings.is_empty() {
        s.push('\n');
    }
    for n in &rep.notes {
        let _ = writeln!(s, "note: {n}");
    }
    for w in &rep.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    // No trailing blanks from the padded columns.
    s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n") + "\n"
}

const STYLE: &str = r#"
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1f2328}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2rem}
.muted{color:#656d76} table{border-collapse:collapse;width:100%} th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #d0d7de;vertical-align:top}
th{background:#f6f8fa} td.num{font-variant-numeric:tabular-nums;text-align:right;white-space:nowrap}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
.card h3{margin:.1rem 0 .4rem;font-size:1rem} .charts{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}
.verdict{font-weight:600;text-transform:uppercase;font-size:.75rem;padding:.05rem .35rem;border-radius:3px}
.verdict.email_only{background:#ffc9c9} .verdict.mixed{background:#d3f9d8} .verdict.other_only{background:#d8f1ff} .verdict.inactive{background:#eaeef2}
.summary span{display:inline-block;margin-right:1.5rem} ul.evidence{margin:.3rem 0;padding-left:1.2rem} ul.evidence li{margin:.15rem 0}
.legend span{display:inline-block;margin-right:1rem} .sw{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;vertical-align:middle;margin-right:.25rem}
"#;

const EMAIL: &str = "#8c959f";
const MEETING: &str = "#2da44e";
const CALL: &str = "#0969da";

/// Emails by month (bars), with the months that had a meeting or a call marked above them.
fn volume_chart(a: &Account) -> String {
    let (w, h, pad) = (420.0f64, 150.0f64, 24.0f64);
    let n = a.months.len().max(1);
    let step = (w - 2.0 * pad) / n as f64;
    let max = a.months.iter().map(|m| m.emails).max().unwrap_or(0).max(1) as f64;
    let mut svg = format!(
        "<svg class=\"volume\" role=\"img\" aria-label=\"Emails by month to {}\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(&a.account)
    );
    let base = h - pad;
    let _ = write!(svg, "<line x1=\"{pad}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#8c959f\"/>", w - pad);
    for (i, m) in a.months.iter().enumerate() {
        let x = pad + step * i as f64;
        let bh = (h - 2.0 * pad - 14.0) * m.emails as f64 / max;
        let _ = write!(
            svg,
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{EMAIL}\"><title>{}: {} emails, {} meetings, {} calls</title></rect>",
            x + step * 0.15,
            base - bh,
            step * 0.7,
            bh,
            m.month,
            m.emails,
            m.meetings,
            m.calls
        );
        let mut dy = 0.0;
        for (count, colour, label) in [(m.meetings, MEETING, "meeting"), (m.calls, CALL, "call")] {
            if count > 0 {
                let _ = write!(
                    svg,
                    "<circle class=\"{label}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{colour}\"><title>{}: {count} {label}(s)</title></circle>",
                    x + step * 0.5,
                    pad - 6.0 + dy,
                    m.month
                );
                dy += 9.0;
            }
        }
        if i % 2 == 1 || n <= 6 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#656d76\">{}</text>",
                x + step * 0.5,
                base + 13.0,
                escape(&m.month)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Emails, meetings and calls in the window as one stacked bar.
fn mix_chart(a: &Account) -> String {
    let (w, h) = (260.0f64, 46.0f64);
    let mix = &a.channel_mix;
    let total = (mix.email + mix.meeting + mix.call).max(1) as f64;
    let mut svg = format!(
        "<svg class=\"mix\" role=\"img\" aria-label=\"Channel mix of {}\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(&a.account)
    );
    let mut x = 0.0;
    for (count, colour, label) in [(mix.email, EMAIL, "email"), (mix.meeting, MEETING, "meeting"), (mix.call, CALL, "call")] {
        let bw = w * count as f64 / total;
        if count > 0 {
            let _ = write!(
                svg,
                "<rect class=\"{label}\" x=\"{x:.1}\" y=\"4\" width=\"{bw:.1}\" height=\"20\" fill=\"{colour}\"><title>{count} {label}</title></rect>"
            );
        }
        x += bw;
    }
    if mix.email + mix.meeting + mix.call == 0 {
        let _ = write!(svg, "<rect x=\"0\" y=\"4\" width=\"{w}\" height=\"20\" fill=\"#eaeef2\"><title>nothing in the window</title></rect>");
    }
    let _ = write!(
        svg,
        "<text x=\"0\" y=\"40\" font-size=\"11\" fill=\"#656d76\">{} emails · {} meetings · {} calls</text></svg>",
        mix.email, mix.meeting, mix.call
    );
    svg
}

fn evidence_line(e: &Evidence) -> String {
    let status = serde_json::to_value(e.status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let source = serde_json::to_value(e.source).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let from = match (&e.message, &e.file) {
        (Some(m), _) => format!("{} ({})", m.subject.as_deref().unwrap_or("(no subject)"), m.date.as_deref().unwrap_or("undated")),
        (None, Some(f)) => f.clone(),
        _ => String::new(),
    };
    let mut s = format!(
        "<li><b>{}</b> {} <span class=\"muted\">{} · {} · {}</span>",
        escape(&e.date),
        escape(e.channel.as_str()),
        escape(&source),
        escape(&status),
        escape(&from)
    );
    if let Some(sent) = &e.sentence {
        let _ = write!(s, "<br>“{}”", escape(sent));
    } else {
        let _ = write!(s, "<br>{}", escape(&e.detail));
    }
    if let Some(n) = &e.note {
        let _ = write!(s, " <span class=\"muted\">— {}</span>", escape(n));
    }
    s.push_str("</li>");
    s
}

pub fn html(rep: &Report) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>rapport accounts</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        h,
        "<h1>rapport accounts</h1><p class=\"muted\">as of {} · window {} days · {} · model {}</p>",
        escape(&rep.as_of),
        rep.window_days,
        escape(&rep.state),
        escape(&rep.model_id)
    );
    let s = &rep.summary;
    let _ = write!(
        h,
        "<p class=\"summary\"><span id=\"accounts\"><b>{}</b> accounts</span><span id=\"email-only\"><b>{}</b> email only ({} of {} active)</span><span><b>{}</b> mixed</span><span><b>{}</b> dipping</span></p>",
        s.accounts,
        s.email_only,
        escape(&pct(s.email_only_share)),
        s.active,
        s.mixed,
        s.dipping
    );
    let internal: Vec<&str> = rep.internal.domains.iter().chain(&rep.internal.addresses).map(String::as_str).collect();
    let _ = write!(
        h,
        "<p class=\"muted\">Internal: {}{}</p>",
        escape(&internal.join(", ")),
        if rep.internal.inferred { " (inferred from the senders)" } else { "" }
    );
    let _ = write!(
        h,
        "<p class=\"legend muted\"><span><i class=\"sw\" style=\"background:{EMAIL}\"></i>email</span><span><i class=\"sw\" style=\"background:{MEETING}\"></i>meeting</span><span><i class=\"sw\" style=\"background:{CALL}\"></i>call</span></p>"
    );

    h.push_str("<h2>Most need a call or a visit</h2>");
    if rep.needs_attention.is_empty() {
        h.push_str("<p>No account had email in the last 180 days.</p>");
    } else {
        h.push_str("<table id=\"needs\"><thead><tr><th>#</th><th>account</th><th>score</th><th>verdict</th><th>why</th></tr></thead><tbody>");
        for n in &rep.needs_attention {
            let _ = write!(
                h,
                "<tr class=\"need-row\"><td class=\"num\">{}</td><td><a href=\"#acc-{}\">{}</a></td><td class=\"num\">{:.1}</td><td><span class=\"verdict {v}\">{v}</span></td><td>{}</td></tr>",
                n.rank,
                n.rank,
                escape(&n.account),
                n.score,
                escape(&n.reasons.join("; ")),
                v = n.verdict.as_str()
            );
        }
        h.push_str("</tbody></table>");
    }

    if !rep.thanks_after_meeting.is_empty() {
        h.push_str("<h2>No email within two days after the last meeting</h2><ul>");
        for t in &rep.thanks_after_meeting {
            let _ = write!(h, "<li><b>{}</b>: meeting on {}, nothing sent by {}</li>", escape(&t.account), escape(&t.meeting_date), escape(&t.follow_up_by));
        }
        h.push_str("</ul>");
    }

    h.push_str("<h2>Accounts</h2><table id=\"accounts-table\"><thead><tr><th>account</th><th>verdict</th><th>30d</th><th>90d</th><th>365d</th><th>trend</th><th>contacts</th><th>last email</th><th>last call/meeting</th><th>flagged</th><th>stage</th></tr></thead><tbody>");
    for a in table_order(rep) {
        let _ = write!(
            h,
            "<tr class=\"account-row\"><td>{}</td><td><span class=\"verdict {v}\">{v}</span></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&a.account),
            a.emails.last_30,
            a.emails.last_90,
            a.emails.last_365,
            a.trend.label,
            a.contacts.len(),
            escape(a.last_email.as_deref().unwrap_or("-")),
            escape(&touch(a.last_touch.as_ref())),
            escape(&pct(a.tone.window.share)),
            a.stage.name.as_str(),
            v = a.verdict.as_str()
        );
    }
    h.push_str("</tbody></table>");

    // One card per account, neediest first, then the unranked by name.
    let mut cards: Vec<&Account> = rep.accounts.iter().collect();
    cards.sort_by(|a, b| a.need_rank.unwrap_or(usize::MAX).cmp(&b.need_rank.unwrap_or(usize::MAX)).then(a.account.cmp(&b.account)));
    for a in cards {
        let anchor = a.need_rank.map(|r| format!(" id=\"acc-{r}\"")).unwrap_or_default();
        let _ = write!(
            h,
            "<div class=\"card account\"{anchor}><h3>{} <span class=\"verdict {v}\">{v}</span> <span class=\"muted\">{} · {} · {} · stage {}</span></h3>",
            escape(&a.account),
            escape(a.domains.join(", ").as_str()),
            plural(a.contacts.len(), "contact"),
            plural(a.threads, "thread"),
            a.stage.name.as_str(),
            v = a.verdict.as_str()
        );
        let _ = write!(h, "<div class=\"charts\"><div>{}<div class=\"muted\">emails by month; dots: meetings, calls</div></div><div>{}<div class=\"muted\">channel mix, last {} days</div></div></div>", volume_chart(a), mix_chart(a), rep.window_days);
        let _ = write!(
            h,
            "<p>Trend: {} ({} → {} emails). Flagged: {} in the window, {}. Last thanked: {}. Reactive {}, sales {}, check-in {}.</p>",
            a.trend.label,
            a.trend.prev_90,
            a.trend.last_90,
            escape(&pct(a.tone.window.share)),
            a.tone.label,
            escape(a.last_thanked.as_ref().map(|t| t.date.as_str()).unwrap_or("never")),
            escape(&pct(a.intent.reactive_share)),
            escape(&pct(a.intent.sales_share)),
            escape(&pct(a.intent.check_in_share))
        );
        if !a.evidence.is_empty() {
            h.push_str("<ul class=\"evidence\">");
            for e in &a.evidence {
                h.push_str(&evidence_line(e));
            }
            h.push_str("</ul>");
        }
        h.push_str("</div>");
    }
    if !rep.notes.is_empty() || !rep.warnings.is_empty() {
        h.push_str("<h2>Notes</h2><ul>");
        for n in &rep.notes {
            let _ = write!(h, "<li>{}</li>", escape(n));
        }
        for w in &rep.warnings {
            let _ = write!(h, "<li>warning: {}</li>", escape(w));
        }
        h.push_str("</ul>");
    }
    h.push_str("</body></html>\n");
    h
}
