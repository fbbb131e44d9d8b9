//! Throughput of each stage over the library API (criterion): parse, clean, rules, accounts
//! aggregation (10,000 messages in `rapport bench`'s synthetic headers), and scoring
//! with the real model (its load is timed apart, once, and printed). Input: the sample mailbox and
//! the mail fixtures, plus the 512 real Enron sent messages when ../shared/datasets is present.
//!
//! `cargo bench --bench pipeline`
use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rapport_core::source::{open_path, RawMail};

fn corpus() -> Vec<RawMail> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs: Vec<PathBuf> = vec![root.join("examples/sample-sent"), root.join("tests/fixtures/mail")];
    let enron = root.join("../shared/datasets/enron/maildir");
    if enron.is_dir() {
        dirs.push(enron);
    } else {
        eprintln!("note: {} not found; benchmarking the shipped mail only", enron.display());
    }
    dirs.iter()
        .flat_map(|d| open_path(d, 1 << 26).expect("open").mails().filter_map(Result::ok).collect::<Vec<_>>())
        .collect()
}

fn stages(c: &mut Criterion) {
    let raws = corpus();
    let bytes: u64 = raws.iter().map(|r| r.bytes.len() as u64).sum();
    let parsed: Vec<_> = raws.iter().filter_map(|r| rapport_core::parse::parse(r).ok()).collect();
    let cleaned: Vec<_> = parsed.iter().map(|p| rapport_core::clean::clean(&p.body)).collect();
    eprintln!("{} messages ({} bytes), {} parsed", raws.len(), bytes, parsed.len());

    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(raws.len() as u64));
    g.bench_function("parse (messages)", |b| b.iter(|| raws.iter().filter_map(|r| rapport_core::parse::parse(r).ok()).count()));
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("parse (bytes)", |b| b.iter(|| raws.iter().filter_map(|r| rapport_core::parse::parse(r).ok()).count()));
    g.throughput(Throughput::Elements(parsed.len() as u64));
    g.bench_function("clean", |b| b.iter(|| parsed.iter().map(|p| rapport_core::clean::clean(&p.body).sentences.len()).sum::<usize>()));
    g.bench_function("rules", |b| b.iter(|| cleaned.iter().map(|c| rapport_core::rules::check_rules(c).len()).sum::<usize>()));
    g.finish();

    // Accounts aggregation over 10,000 messages: the corpus' bodies in `rapport bench`'s
    // synthetic headers (144 customer domains, two years of dates), parsed and cleaned as the
    // audit stores them.
    let bodies: Vec<rapport_bench::synth::Body> = parsed
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.body.trim().is_empty())
        .map(|(i, p)| rapport_bench::synth::Body { id: i.to_string(), subject: p.subject.clone().unwrap_or_default(), body: p.body.clone() })
        .collect();
    let n = 10_000;
    let messages: Vec<rapport_core::accounts::Message> = (0..n)
        .map(|i| {
            let m = rapport_bench::synth::message(&bodies, n, i);
            let raw = RawMail::new(rapport_core::source::SourceRef::Stdin, m.bytes.into_bytes());
            let p = rapport_core::parse::parse(&raw).expect("synthetic mail parses");
            let c = rapport_core::clean::clean(&p.body);
            rapport_core::accounts::Message {
                message_key: p.message_id.clone().unwrap_or_default(),
                message_id: p.message_id.clone(),
                origin: format!("bench:{i}"),
                sender: p.from.as_ref().map(|f| f.address.clone()),
                recipients: p.recipients().map(|r| r.address.clone()).collect(),
                date: p.date,
                subject: p.subject.clone(),
                in_reply_to: p.in_reply_to.clone(),
                references: p.references.clone(),
                sentences: c.sentences.clone(),
                cleaned: c.text,
                verdict: Some(rapport_core::state::Verdict { risk: 0.1, flagged: i % 7 == 0, tone: Default::default(), findings: vec![], sentence_risk: vec![] }),
                ..Default::default()
            }
        })
        .collect();
    let opts = rapport_core::accounts::Options {
        as_of: rapport_core::accounts::dates::days_from_civil(2002, 1, 1),
        window_days: 90,
        ..Default::default()
    };
    let mut g = c.benchmark_group("accounts");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("aggregate {n} messages"), |b| {
        b.iter(|| rapport_core::accounts::build(&messages, &rapport_core::accounts::Extra::default(), &opts).accounts.len())
    });
    g.finish();

    // The model: load once (timed apart), then score the sample mailbox's sentences.
    rapport_model::set_threads(2);
    let t = Instant::now();
    let device = rapport_model::parse_device("cpu").expect("cpu");
    let scorer = rapport_model::Scorer::load(
        &rapport_model::default_model_dir(None),
        device,
        rapport_model::Precision::resolve("auto", device).expect("auto"),
        rapport_model::Version::current(),
    )
    .expect("model");
    eprintln!("model load: {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    let sample: Vec<_> = cleaned.iter().take(12).collect();
    let sentences: Vec<String> = sample.iter().flat_map(|c| c.sentences.iter().map(|r| c.text[r.clone()].to_string())).collect();
    let mut g = c.benchmark_group("score");
    g.sample_size(10);
    g.throughput(Throughput::Elements(sample.len() as u64));
    g.bench_function(format!("score {} messages ({} sentences)", sample.len(), sentences.len()), |b| {
        b.iter_batched(
            || sentences.iter().map(String::as_str).collect::<Vec<_>>(),
            |s| scorer.score(&s).expect("score").len(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
