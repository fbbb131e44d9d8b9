//! `rapport train` and `rapport eval`.
use std::io::{IsTerminal, Write};

use anyhow::Context;

use crate::cli::{CalibrateArgs, EvalArgs, Format, ModelArgs, TrainArgs};
use crate::score::{self, train, Encoder, Heads};

pub fn load_encoder(m: &ModelArgs) -> anyhow::Result<Encoder> {
    score::set_threads(m.threads);
    let device = score::parse_device(&m.device).map_err(anyhow::Error::msg)?;
    let precision = score::Precision::resolve(&m.precision, device).map_err(anyhow::Error::msg)?;
    Ok(Encoder::load(&score::default_model_dir(m.model_dir.as_deref()), device, precision)?)
}

pub fn train(mut a: TrainArgs) -> anyhow::Result<i32> {
    // The committed heads are trained on float32 features: `auto` does not switch training to
    // bf16 on a machine that has it (ask for it with --precision bf16).
    if a.model.precision == "auto" {
        a.model.precision = "f32".into();
    }
    let encoder = load_encoder(&a.model)?;
    let opts = train::TrainOptions {
        data: a.data.clone(),
        cache_dir: super::cache_dir().join("features"),
        out: a.out.clone(),
        seed: a.seed,
        epochs: a.epochs,
        limit: a.limit,
        progress: std::io::stderr().is_terminal() || std::env::var_os("RAPPORT_PROGRESS").is_some(),
    };
    let t0 = std::time::Instant::now();
    let heads = train::train(&encoder, &opts)
        .with_context(|| format!("training on {} (see its README; run from the repository root)", a.data.display()))?;
    heads.save(&a.out)?;
    eprintln!("wrote {} in {:.1}s; rebuild to compile it in", a.out.display(), t0.elapsed().as_secs_f64());
    Ok(0)
}

pub fn eval(a: EvalArgs) -> anyhow::Result<i32> {
    let encoder = load_encoder(&a.model)?;
    let heads = Heads::embedded(encoder.device())?;
    let metrics = train::evaluate(&encoder, &heads, &a.data, &super::cache_dir().join("features"))
        .with_context(|| format!("evaluating on {}", a.data.display()))?;
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&metrics)?)?,
        Format::Text => {
            writeln!(out, "{:<24} {:<30} {:>6} {:>8} {:>8} {:>7}", "dataset", "metric", "rows", "rapport", "VADER", "target")?;
            for m in &metrics {
                let target = m.target.map(|t| format!("{t:.2}")).unwrap_or_default();
                let vader = m.vader.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".into());
                let mark = match m.target {
                    Some(t) if m.value < t => " (below target)",
                    _ => "",
                };
                writeln!(out, "{:<24} {:<30} {:>6} {:>8.4} {:>8} {:>7}{mark}", m.dataset, m.metric, m.rows, m.value, vader, target)?;
            }
        }
    }
    Ok(0)
}

pub fn calibrate(a: CalibrateArgs) -> anyhow::Result<i32> {
    let scorer = super::check::load_scorer(&a.model, 0)?;
    let opts = crate::score::calibrate::CalibrateOptions { data: a.data.clone(), labels: a.labels.clone(), out: a.out.clone() };
    let report = crate::score::calibrate::calibrate(&scorer, &opts)
        .with_context(|| format!("calibrating on {} (run from the repository root)", a.data.display()))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if report.adopted {
        eprintln!("the fitted weights rank the labelled mail better: wrote {}; rebuild to compile them in", a.out.display());
    } else {
        eprintln!("the fitted weights do not beat the ones in use (cross-validated AUC {:.3} vs {:.3}): kept the hand-set weights", report.cv_auc, report.default_weights_auc);
    }
    Ok(0)
}
