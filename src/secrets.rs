//! Values that came from the environment (`${NAME}` in an adapter) are treated as secrets: no
//! diagnostic, log line, problem detail or recording prints them, whatever field they landed in.
//!
//! One mechanism for all of them: loading notes every expanded value with the variable's name
//! and where it was written; anything about to be printed goes through `Secrets::redact_diagnostic`
//! (names the variable instead) or `scrub` (the values of every adapter being served).

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use arc_swap::ArcSwap;

use crate::diagnostic::{Diagnostic, Span};

/// Shorter values are only hidden where they were written (a diagnostic about that scalar):
/// replacing `1` or `on` everywhere would garble every message and recording.
const MIN_SCRUBBED_LEN: usize = 4;

#[derive(Clone, Debug, PartialEq)]
struct Secret {
    name: String,
    value: String,
    span: Span,
}

/// The environment values expanded into one adapter file.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Secrets {
    list: Vec<Secret>,
}

impl Secrets {
    /// Notes that `${name}` expanded to `value` in the scalar at `span`.
    pub(crate) fn note(&mut self, name: &str, value: &str, span: Span) {
        if value.is_empty() {
            return;
        }
        self.list.push(Secret {
            name: name.to_string(),
            value: value.to_string(),
            span,
        });
    }

    pub(crate) fn extend(&mut self, other: &Secrets) {
        self.list.extend(other.list.iter().cloned());
    }

    /// Rewrites a diagnostic that quotes an expanded value so that it names the variable
    /// instead: "`the value of ${SECRET}` is not a duration".
    pub(crate) fn redact_diagnostic(&self, d: &mut Diagnostic) {
        for secret in &self.list {
            let here = d.span.start == secret.span.start;
            if !here && secret.value.len() < MIN_SCRUBBED_LEN {
                continue;
            }
            let named = format!("the value of ${{{}}}", secret.name);
            d.message = replace_value(&d.message, &secret.value, &named);
            if let Some(help) = &mut d.help {
                *help = replace_value(help, &secret.value, &named);
            }
        }
    }

    /// `text` with every value of at least `MIN_SCRUBBED_LEN` characters replaced by `with`.
    pub(crate) fn redact_text<'t>(&self, text: &'t str, with: &str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for secret in self.scrubbed() {
            if out.contains(secret.value.as_str()) {
                out = Cow::Owned(out.replace(secret.value.as_str(), with));
            }
        }
        out
    }

    fn scrubbed(&self) -> impl Iterator<Item = &Secret> {
        self.list
            .iter()
            .filter(|s| s.value.len() >= MIN_SCRUBBED_LEN)
    }
}

/// `` `value` `` becomes `` `named` `` without doubled quotes, then any bare occurrence.
fn replace_value(text: &str, value: &str, named: &str) -> String {
    if !text.contains(value) {
        return text.to_string();
    }
    text.replace(&format!("`{value}`"), named)
        .replace(value, named)
}

/// The secrets of every adapter being served, for what is printed at run time (logs, problem
/// details). Replaced whole when a plan is installed.
static SERVED: LazyLock<ArcSwap<Secrets>> = LazyLock::new(ArcSwap::default);

/// Makes `secrets` the set that `scrub` hides (the served plan's, after each load or reload).
pub(crate) fn publish(secrets: Secrets) {
    // A reload keeps hiding the old values too: lines about calls still in flight may print them.
    let mut all = Secrets::clone(&SERVED.load());
    all.extend(&secrets);
    all.list.dedup_by(|a, b| a.value == b.value);
    SERVED.store(Arc::new(all));
}

/// `text` with the value of every served secret replaced by `***`.
pub(crate) fn scrub(text: &str) -> Cow<'_, str> {
    scrub_as(text, REDACTED)
}

/// `text` with the value of every served secret replaced by `with`.
pub(crate) fn scrub_as<'t>(text: &'t str, with: &str) -> Cow<'t, str> {
    let served = SERVED.load();
    if served.list.is_empty() {
        return Cow::Borrowed(text);
    }
    match served.redact_text(text, with) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        Cow::Owned(s) => Cow::Owned(s),
    }
}

/// What a scrubbed value reads as.
pub(crate) const REDACTED: &str = "***";

/// A log writer that scrubs every line: whatever a log line quotes (a backend's fault text, an
/// error naming a URL), served secrets do not reach the log.
#[derive(Clone)]
pub(crate) struct Scrubbing<W>(pub W);

impl<W: std::io::Write> std::io::Write for Scrubbing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Ok(text) = std::str::from_utf8(buf) else {
            return self.0.write(buf);
        };
        match scrub(text) {
            Cow::Borrowed(_) => self.0.write(buf),
            Cow::Owned(clean) => {
                self.0.write_all(clean.as_bytes())?;
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl<'a, W: std::io::Write + Clone + 'a> tracing_subscriber::fmt::MakeWriter<'a> for Scrubbing<W> {
    type Writer = Scrubbing<W>;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Every secret of a plan's adapters.
pub(crate) fn of_plan(plan: &crate::plan::Plan) -> Secrets {
    let mut all = Secrets::default();
    for adapter in &plan.adapters {
        all.extend(&adapter.secrets);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Secrets {
        let mut s = Secrets::default();
        s.note("SECRET", "s3cr3t-XYZ", Span::at(9, 12));
        s.note("SHORT", "on", Span::at(4, 3));
        s
    }

    #[test]
    fn a_diagnostic_names_the_variable_not_the_value() {
        let mut d = Diagnostic::error(Span::at(9, 12), "`s3cr3t-XYZ` is not a duration")
            .with_help("write s3cr3t-XYZ as 5s");
        secrets().redact_diagnostic(&mut d);
        assert_eq!(d.message, "the value of ${SECRET} is not a duration");
        assert_eq!(
            d.help.as_deref(),
            Some("write the value of ${SECRET} as 5s")
        );
    }

    #[test]
    fn short_values_are_hidden_only_where_they_were_written() {
        let mut elsewhere = Diagnostic::error(Span::at(2, 1), "unknown key `on`");
        secrets().redact_diagnostic(&mut elsewhere);
        assert_eq!(elsewhere.message, "unknown key `on`");
        let mut here = Diagnostic::error(Span::at(4, 3), "invalid value `on`: expected a number");
        secrets().redact_diagnostic(&mut here);
        assert_eq!(
            here.message,
            "invalid value the value of ${SHORT}: expected a number"
        );
    }

    #[test]
    fn text_is_scrubbed_of_long_values() {
        let s = secrets();
        assert_eq!(
            s.redact_text("<fault>bad key s3cr3t-XYZ on</fault>", "X"),
            "<fault>bad key X on</fault>"
        );
        assert!(matches!(s.redact_text("clean", "X"), Cow::Borrowed(_)));
    }

    #[test]
    fn log_lines_are_scrubbed_of_served_secrets() {
        use std::io::Write;
        let mut served = Secrets::default();
        served.note("LOG_KEY", "log-secret-123", Span::at(1, 1));
        publish(served);
        let mut out = Scrubbing(Vec::new());
        write!(out, "unmapped fault: log-secret-123 rejected").unwrap();
        assert_eq!(
            String::from_utf8(out.0).unwrap(),
            "unmapped fault: *** rejected"
        );
    }
}
