//! `ponte export`: the routes in other tools' formats (a Postman collection).

pub mod postman;

use std::path::Path;
use std::process::ExitCode;

/// `ponte export postman`: loads the adapters and fixtures, prints or writes the collection.
pub fn run_postman(adapters: &Path, fixtures: &Path, output: Option<&Path>) -> ExitCode {
    // Backends are not reached: an unset variable expands to nothing (as for `ponte openapi`).
    let options = crate::plan::LoadOptions {
        missing_env_is_empty: true,
        ..crate::plan::LoadOptions::default()
    };
    let loaded = crate::plan::load_dir_with(adapters, &crate::config::process_env, &options);
    let Some(plan) = loaded.plan else {
        for d in &loaded.diagnostics {
            eprintln!("{d}");
        }
        eprintln!("error: the adapters in {} do not load", adapters.display());
        return ExitCode::FAILURE;
    };
    // Without a fixtures folder there are no examples: the requests are still there.
    let cases = if fixtures.is_dir() {
        let (cases, problems) = crate::fixture::load(fixtures, &plan);
        for d in &problems {
            eprintln!("{d}");
        }
        cases
    } else {
        Vec::new()
    };
    let text = collection_text(&plan, &cases);
    match output {
        Some(path) => match std::fs::write(path, text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
        None => {
            print!("{text}");
            ExitCode::SUCCESS
        }
    }
}

/// The collection as pretty JSON, with every value taken from the environment hidden.
pub fn collection_text(plan: &crate::plan::Plan, cases: &[crate::fixture::Case]) -> String {
    let description = crate::describe::describe(plan, cases, crate::describe::Mode::default());
    let json = postman::collection(&description, cases);
    let text = serde_json::to_string_pretty(&json).unwrap_or_else(|_| "{}".to_string()) + "\n";
    crate::secrets::of_plan(plan)
        .redact_text(&text, crate::secrets::REDACTED)
        .into_owned()
}
