//! `tillit check`: a document against the AI rules, offline.

use super::*;
use crate::i18n::Message;

pub(super) fn check(args: CheckArgs) -> ExitCode {
    let policies = match policy::load(args.policies.policies.as_deref()) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let mut bytes = Vec::new();
    let read = if args.file == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(&args.file).map(|b| bytes = b)
    };
    if let Err(e) = read {
        return fail(format!("cannot read {}: {e}", args.file));
    }
    let evaluation = match policies.evaluate_bytes(&bytes) {
        Ok((_, evaluation)) => evaluation,
        Err(e) => {
            // Not JSON at all: still answer in the contract's shape.
            crate::policy::model::Evaluation {
                verdict: crate::policy::Verdict::Invalid,
                rule_set_version: policies.version().into(),
                rules: Vec::new(),
                errors: vec![crate::error::FieldError::of(
                    "",
                    Message::new("error-file_not_json").with("detail", e.to_string()),
                )],
            }
        }
    };
    let output = match args.format {
        Format::Json => serde_json::to_string_pretty(&evaluation).unwrap_or_default() + "\n",
        Format::Text => crate::policy::text::render(&args.file, &evaluation, args.lang),
    };
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(output.as_bytes()).and_then(|_| stdout.flush()).is_err() {
        return ExitCode::from(2);
    }
    ExitCode::from(evaluation.verdict.exit_code() as u8)
}
