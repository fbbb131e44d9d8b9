//! The audit report as one self-contained HTML file: no scripts, fonts or images from anywhere
//! else, so it can be mailed or archived as is. Flagged messages with their sentences highlighted
//! and the reasons, and tone over time as an inline SVG chart.
use std::fmt::Write as _;

use super::{AuditReport, MessageReport};
use crate::findings::Severity;
use crate::report::escape_html as escape;

const STYLE: &str = r#"
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1f2328}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2rem}
.muted{color:#656d76} table{border-collapse:collapse;width:100%} th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #d0d7de;vertical-align:top}
th{background:#f6f8fa} .risk{font-variant-numeric:tabular-nums;white-space:nowrap}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
.card h3{margin:.1rem 0 .4rem;font-size:1rem} .sent{background:#f6f8fa;border-radius:4px;padding:.4rem .6rem;margin:.4rem 0}
mark.warning{background:#fff3b0} mark.error{background:#ffc9c9} mark.info{background:#d8f1ff}
.sev{font-weight:600;text-transform:uppercase;font-size:.75rem;padding:.05rem .35rem;border-radius:3px}
.sev.error{background:#ffc9c9} .sev.warning{background:#fff3b0} .sev.info{background:#d8f1ff}
.summary span{display:inline-block;margin-right:1.5rem}
"#;

fn severity_class(s: Severity) -> &'static str {
    s.as_str()
}

/// A sentence with the spans of the findings inside it marked.
fn highlighted(m: &MessageReport, sentence: usize) -> String {
    let fs: Vec<_> = m.findings.iter().filter(|f| f.sentence == sentence).collect();
    let Some(text) = fs.iter().map(|f| &f.sentence_text).find(|t| !t.is_empty()) else {
        return String::new();
    };
    let mut marks: Vec<(usize, usize, Severity)> = fs
        .iter()
        .map(|f| (f.offset, f.offset + f.text.len(), f.severity))
        .filter(|&(s, e, _)| e <= text.len() && e - s < text.len() && text.is_char_boundary(s) && text.is_char_boundary(e))
        .collect();
    marks.sort_by(|a, b| a.0.cmp(&b.0).then(b.2.cmp(&a.2)));
    let mut out = String::new();
    let mut at = 0;
    for (s, e, sev) in marks {
        if s < at {
            continue;
        }
        out.push_str(&escape(&text[at..s]));
        let _ = write!(out, "<mark class=\"{}\">{}</mark>", severity_class(sev), escape(&text[s..e]));
        at = e;
    }
    out.push_str(&escape(&text[at..]));
    out
}

fn chart(rep: &AuditReport) -> String {
    if rep.months.is_empty() {
        return "<p class=\"muted\">No dated messages yet.</p>".into();
    }
    let (w, h, pad) = (760.0f64, 220.0f64, 36.0f64);
    let n = rep.months.len();
    let step = (w - 2.0 * pad) / n as f64;
    let max_msgs = rep.months.iter().map(|m| m.messages).max().unwrap_or(1).max(1) as f64;
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"Messages, flagged share and negative tone by month\" viewBox=\"0 0 {w} {h}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    let _ = write!(svg, "<line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#8c959f\"/>", h - pad, w - pad, h - pad);
    let mut line = String::new();
    for (i, m) in rep.months.iter().enumerate() {
        let x = pad + step * i as f64;
        let bh = (h - 2.0 * pad) * m.messages as f64 / max_msgs;
        let fh = (h - 2.0 * pad) * m.flagged as f64 / max_msgs;
        let _ = write!(
            svg,
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#d0d7de\"><title>{}: {} messages</title></rect>",
            x + step * 0.15,
            h - pad - bh,
            step * 0.7,
            bh,
            m.month,
            m.messages
        );
        let _ = write!(
            svg,
            "<rect class=\"flagged\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#e5534b\"><title>{}: {} flagged</title></rect>",
            x + step * 0.15,
            h - pad - fh,
            step * 0.7,
            fh,
            m.month,
            m.flagged
        );
        let y = h - pad - (h - 2.0 * pad) * m.mean_negative as f64;
        let _ = write!(line, "{}{:.1},{:.1}", if i == 0 { "" } else { " " }, x + step * 0.5, y);
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#656d76\">{}</text>",
            x + step * 0.5,
            h - pad + 14.0,
            escape(&m.month)
        );
    }
    let _ = write!(svg, "<polyline points=\"{line}\" fill=\"none\" stroke=\"#8250df\" stroke-width=\"2\"><title>mean negative tone</title></polyline>");
    svg.push_str("</svg>");
    svg.push_str("<p class=\"muted\">Grey: messages per month; red: flagged; purple line: mean negative tone (0–100% of the chart's height).</p>");
    svg
}

pub fn render(rep: &AuditReport) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>rapport audit</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        h,
        "<h1>rapport audit</h1><p class=\"muted\">{} · model {}{}</p>",
        escape(&rep.state),
        escape(&rep.model_id),
        if rep.senders.len() > 1 { format!(" · mail from {}", escape(&rep.senders.join(", "))) } else { String::new() }
    );
    let _ = write!(
        h,
        "<p class=\"summary\"><span id=\"messages\"><b>{}</b> messages</span><span id=\"flagged\"><b>{}</b> flagged ({:.1}%)</span><span><b>{}</b> read this run</span><span><b>{}</b> errors</span></p>",
        rep.messages,
        rep.flagged_count,
        100.0 * rep.flagged_count as f64 / rep.messages.max(1) as f64,
        rep.run.read,
        rep.run.errors.len()
    );
    h.push_str("<h2>Tone over time</h2>");
    h.push_str(&chart(rep));
    h.push_str("<h2>Flagged messages</h2>");
    if rep.flagged.is_empty() {
        h.push_str("<p>Nothing flagged.</p>");
    }
    h.push_str("<table id=\"flagged-table\"><thead><tr><th>risk</th><th>date</th><th>from</th><th>to</th><th>subject</th><th>why</th></tr></thead><tbody>");
    for m in &rep.flagged {
        let why = m.reasons();
        let _ = write!(
            h,
            "<tr class=\"flagged-row\"><td class=\"risk\">{:.0}%</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            m.risk * 100.0,
            escape(m.date.as_deref().unwrap_or("")),
            escape(m.sender.as_deref().unwrap_or("")),
            escape(&m.recipients.join(", ")),
            escape(m.subject.as_deref().unwrap_or("(no subject)")),
            escape(&why.join(", "))
        );
    }
    h.push_str("</tbody></table>");
    for m in &rep.flagged {
        let _ = write!(
            h,
            "<div class=\"card\"><h3>{} <span class=\"muted\">— {} · {}</span></h3>",
            escape(m.subject.as_deref().unwrap_or("(no subject)")),
            escape(&m.recipients.join(", ")),
            escape(m.date.as_deref().unwrap_or(""))
        );
        let mut sentences: Vec<usize> = m.findings.iter().map(|f| f.sentence).collect();
        sentences.sort();
        sentences.dedup();
        for s in sentences {
            let _ = write!(h, "<div class=\"sent\">{}</div><ul>", highlighted(m, s));
            for f in m.findings.iter().filter(|f| f.sentence == s) {
                let _ = write!(
                    h,
                    "<li><span class=\"sev {}\">{}</span> <b>{}</b> {}: {}{}</li>",
                    severity_class(f.severity),
                    f.severity.as_str(),
                    escape(f.code),
                    escape(f.name),
                    escape(&f.message),
                    f.suggestion.as_deref().map(|s| format!(" <span class=\"muted\">— {}</span>", escape(s))).unwrap_or_default()
                );
            }
            h.push_str("</ul>");
        }
        let _ = write!(h, "<p class=\"muted\">{}</p></div>", escape(&m.source));
    }
    if !rep.run.errors.is_empty() {
        h.push_str("<h2>Messages that could not be read</h2><ul>");
        for (src, e) in &rep.run.errors {
            let _ = write!(h, "<li>{}: {}</li>", escape(src), escape(e));
        }
        h.push_str("</ul>");
    }
    h.push_str("</body></html>\n");
    h
}
