//! `rapport bench` end to end on a small inbox built from its own AESLC-format rows (no
//! ../shared needed): every run is measured by a real child audit with the real model.
use std::process::Command;

use crate::bin;

const BODIES: &[&str] = &[
    "Please send me the final numbers by Friday.\nThanks, Jane",
    "I still have not received the signed contract. This is the third time I am asking.",
    "Great talking with you today. I will follow up with the pricing next week.",
    "Attached is the revised schedule for the Bishops Corner project.",
    "Per my last email, the invoice is overdue.",
    "Can we move our call to Thursday at 10am?",
    "From now on, all nominations go through Kim.\nLet me know if you have questions.",
    "Thanks for the quick turnaround on this.",
    "WE NEED THE METER DATA TODAY.",
    "Sure. Whatever works for you, I guess.",
    "Please send me the final numbers by Friday.\nThanks, Jane",
];

fn rows(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("aeslc.jsonl");
    let mut s = String::new();
    for (i, b) in BODIES.iter().enumerate() {
        s.push_str(&serde_json::json!({"id": format!("t{i}"), "folder": "sent", "subject": format!("Subject {i}"), "body": b}).to_string());
        s.push('\n');
    }
    std::fs::write(&p, s).unwrap();
    p
}

#[test]
fn bench_measures_fresh_rerun_and_cached_audits_of_each_size() {
    let dir = tempfile::tempdir().unwrap();
    let data = rows(dir.path());
    let work = dir.path().join("work");
    let json = dir.path().join("bench.json");
    let run = || {
        Command::new(bench_bin())
            .args(["--sizes", "15,30", "--latency-sample", "4", "--data"])
            .arg(&data)
            .arg("--work")
            .arg(&work)
            .arg("--json")
            .arg(&json)
            .output()
            .unwrap()
    };
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 8, "two sizes x (maildir fresh, rerun; mbox cache, rerun)");
    for n in [15u64, 30] {
        let get = |format: &str, scenario: &str| {
            runs.iter()
                .find(|r| r["messages"] == n && r["format"] == format && r["scenario"] == scenario)
                .unwrap_or_else(|| panic!("no {format} {scenario} run for {n}: {runs:?}"))
        };
        let fresh = get("maildir", "fresh");
        assert_eq!(fresh["read"], n);
        // 11 rows, 10 distinct bodies: the model scores each distinct text once.
        assert_eq!(fresh["scored"], 10, "{fresh}");
        assert!(fresh["encoded"].as_u64().unwrap() > 0 && fresh["encoded"].as_u64() <= fresh["sentences"].as_u64());
        assert!(fresh["peak_rss_mb"].as_f64().unwrap() > 10.0 && fresh["seconds"].as_f64().unwrap() > 0.0);
        for format in ["maildir", "mbox"] {
            let rerun = get(format, "rerun");
            assert_eq!(rerun["read"], 0, "{format}: nothing new on a re-run");
            assert_eq!(rerun["encoded"], 0);
        }
        let cache = get("mbox", "cache");
        assert_eq!(cache["read"], n, "the mbox holds the same messages");
        assert_eq!(cache["cached"], n, "every verdict from the maildir run's score cache");
        assert_eq!(cache["encoded"], 0);
    }
    let lat = &v["latency"];
    assert_eq!(lat["messages"], 4);
    assert!(lat["p50_ms"].as_f64().unwrap() > 0.0 && lat["p50_ms"].as_f64() <= lat["p95_ms"].as_f64());
    assert!(v["peers_skipped"].as_str().unwrap().contains("--python"));
    assert!(v["meta"]["cpu"].is_string() && v["meta"]["torch_threads"].as_u64().unwrap() >= 1);
    // Targets are judged only at the sizes they name.
    assert!(v["targets"].as_array().unwrap().iter().all(|t| t["met"].is_null()), "{}", v["targets"]);
    assert!(stdout.contains("Per-message latency") && stdout.contains("maildir") && stdout.contains("Scaling"), "{stdout}");
    // The inboxes are built once and reused.
    let maildir = work.join("inbox-30/maildir/cur");
    assert_eq!(std::fs::read_dir(&maildir).unwrap().count(), 30);
    let mbox = std::fs::read_to_string(work.join("inbox-30/sent.mbox")).unwrap();
    assert_eq!(mbox.lines().filter(|l| l.starts_with("From ")).count(), 30, "body lines starting `From ` are quoted");
    let before = std::fs::metadata(maildir.join("0000000.rapport-bench:2,S")).unwrap().modified().unwrap();
    let again = run();
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
    let after = std::fs::metadata(maildir.join("0000000.rapport-bench:2,S")).unwrap().modified().unwrap();
    assert_eq!(before, after, "a second bench reuses the inbox");
}

#[test]
fn bench_without_its_data_says_which_file_and_what_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bench_bin())
        .args(["--sizes", "10", "--data", "/nonexistent/aeslc.jsonl", "--work"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/aeslc.jsonl") && err.contains("--data"), "{err}");
    let out = Command::new(bench_bin()).args(["--sizes", "lots"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("100k"));
}

/// `rapport-bench`, the developer tool (crates/bench), built beside `rapport`.
fn bench_bin() -> std::path::PathBuf {
    let p = bin().with_file_name("rapport-bench");
    assert!(p.is_file(), "{} is missing: build the workspace first (make build, or cargo build --release --workspace --bins)", p.display());
    p
}
