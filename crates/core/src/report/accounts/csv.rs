//! The accounts report for spreadsheets: one row per customer account, by account. Cells go
//! through `text::csv_cell` (quoted when needed, formulas defused).
use crate::accounts::Report;
use crate::text::csv_cell;

pub const CSV_HEADER: &str = "account,kind,verdict,contacts,our_senders,emails_total,emails_30,emails_90,emails_365,emails_window,sent,received,emails_prev_90,trend,trend_change,threads,threads_started_by_them,two_way_threads,we_answered_share,they_answered_share,median_reply_hours,unanswered,complaints,complaints_without_apology,first_contact,last_contact,tenure_days,last_touch_date,last_touch_channel,meetings_window,calls_window,flagged_share,flagged_trend,last_thanked,strength,stage,need_score,need_rank,reasons";

fn opt_f(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.3}")).unwrap_or_default()
}

pub fn render(rep: &Report) -> String {
    let mut s = String::new();
    s.push_str(CSV_HEADER);
    s.push('\n');
    for a in &rep.accounts {
        let kind = serde_json::to_value(a.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let fields = [
            csv_cell(&a.account),
            kind,
            a.verdict.as_str().to_string(),
            a.contacts.len().to_string(),
            csv_cell(&a.our_senders.join(" ")),
            a.emails.total.to_string(),
            a.emails.last_30.to_string(),
            a.emails.last_90.to_string(),
            a.emails.last_365.to_string(),
            a.emails.window.to_string(),
            a.emails.sent.to_string(),
            a.emails.received.to_string(),
            a.trend.prev_90.to_string(),
            a.trend.label.to_string(),
            opt_f(a.trend.change),
            a.threads.total.to_string(),
            a.threads.started_by_them.to_string(),
            a.threads.two_way.to_string(),
            opt_f(a.reciprocity.we_answered_share),
            opt_f(a.reciprocity.they_answered_share),
            a.reciprocity.median_reply_hours.map(|h| format!("{h:.1}")).unwrap_or_default(),
            a.unanswered.len().to_string(),
            a.complaints.len().to_string(),
            a.complaints.iter().filter(|c| c.reply.is_some() && c.apology.is_none()).count().to_string(),
            a.first_contact.clone().unwrap_or_default(),
            a.last_contact.clone().unwrap_or_default(),
            a.tenure_days.to_string(),
            a.last_touch.as_ref().map(|e| e.date.clone()).unwrap_or_default(),
            a.last_touch.as_ref().map(|e| e.channel.as_str().to_string()).unwrap_or_default(),
            a.channel_mix.meeting.to_string(),
            a.channel_mix.call.to_string(),
            opt_f(a.tone.window.share),
            a.tone.label.to_string(),
            a.last_thanked.as_ref().map(|t| t.date.clone()).unwrap_or_default(),
            format!("{:.1}", a.strength.score),
            a.stage.as_str().to_string(),
            format!("{:.1}", a.need.score),
            a.need_rank.map(|r| r.to_string()).unwrap_or_default(),
            csv_cell(&a.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>().join(" ")),
        ];
        s.push_str(&fields.join(","));
        s.push('\n');
    }
    s
}
