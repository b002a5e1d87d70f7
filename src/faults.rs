//! Backend faults (SOAP faults, GraphQL errors) and the rules that say which are the caller's
//! business (a 4xx with a code) and which are not (502).

use regex::Regex;

use crate::config::Spanned;
use crate::config::model::FaultRule;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::mapping::path::Path;
use serde_json::Value;

#[derive(Debug, PartialEq, Clone)]
pub struct Fault {
    /// `Client`, `Server`, `Sender`, `Receiver`, … without namespace prefix.
    pub code: String,
    /// Dotted 1.1 tails and 1.2 `Subcode` values, outermost first.
    pub subcodes: Vec<String>,
    pub message: String,
    pub detail: Option<Value>,
    /// GraphQL: where in the result the error is (`contact.creditScore`).
    pub path: Option<String>,
}

impl Fault {
    /// `Client.CepInvalido`
    pub fn full_code(&self) -> String {
        let mut s = self.code.clone();
        for sub in &self.subcodes {
            s.push('.');
            s.push_str(sub);
        }
        s
    }
}

#[derive(Debug)]
pub struct CompiledRule {
    code: Option<String>,
    subcode: Option<String>,
    path: Option<String>,
    message: Option<Regex>,
    /// XML over HTTP: the reply element whose presence is the fault.
    pub when: Option<Path>,
    pub status: u16,
    error: Option<String>,
    detail: Option<String>,
}

/// What a matched rule answers.
#[derive(Debug, PartialEq)]
pub struct FaultAnswer {
    pub status: u16,
    pub code: String,
    pub detail: String,
}

/// 1.1 and 1.2 name the same two codes differently.
fn same_code(rule: &str, fault: &str) -> bool {
    fn canon(c: &str) -> &str {
        match c {
            "Client" | "Sender" => "Sender",
            "Server" | "Receiver" => "Receiver",
            other => other,
        }
    }
    canon(rule).eq_ignore_ascii_case(canon(fault))
}

/// Compiles a `when` path of a rule (with the route's mapping compiler, so that the reply reader
/// keeps the elements it names).
pub type WhenCompiler<'a> = dyn FnMut(&Spanned<String>, &mut Diagnostics) -> Option<Path> + 'a;

pub fn compile(
    rules: &[FaultRule],
    errors: &mut Diagnostics,
    when: &mut WhenCompiler,
) -> Vec<CompiledRule> {
    let mut out = Vec::new();
    for rule in rules {
        let status = rule.status.value;
        if !(400..=599).contains(&status) {
            errors.push(
                Diagnostic::error(
                    rule.status.span,
                    format!("fault status {status} is not an error status"),
                )
                .with_help("use 4xx for faults the caller caused (e.g. 422), 5xx for the others"),
            );
            continue;
        }
        let message = match &rule.message {
            Some(m) => match Regex::new(&m.value) {
                Ok(r) => Some(r),
                Err(e) => {
                    let why = e.to_string();
                    errors.push(Diagnostic::error(
                        m.span,
                        format!(
                            "invalid regular expression: {}",
                            crate::mapping::input::regex_reason(&why)
                        ),
                    ));
                    continue;
                }
            },
            None => None,
        };
        out.push(CompiledRule {
            code: rule.code.as_ref().map(|c| c.value.clone()),
            subcode: rule.subcode.as_ref().map(|c| c.value.clone()),
            path: rule.path.as_ref().map(|c| c.value.clone()),
            message,
            when: rule.when.as_ref().and_then(|w| when(w, errors)),
            status,
            error: rule.error.clone(),
            detail: rule.detail.clone(),
        });
    }
    out
}

/// `when` is for XML-over-HTTP content rules; other kinds report it.
pub fn refuse_when(rules: &[FaultRule], kind: &str, errors: &mut Diagnostics) {
    for w in rules.iter().filter_map(|r| r.when.as_ref()) {
        errors.push(
            Diagnostic::error(
                w.span,
                format!("`when` is for XML-over-HTTP backends, not {kind}"),
            )
            .with_help("match the fault with `code`, `subcode`, `path` or `message`"),
        );
    }
}

impl CompiledRule {
    pub(crate) fn matches(&self, fault: &Fault) -> bool {
        self.code.as_ref().is_none_or(|c| same_code(c, &fault.code))
            && self
                .subcode
                .as_ref()
                .is_none_or(|s| fault.subcodes.iter().any(|f| f == s))
            && self.path.as_ref().is_none_or(|p| {
                fault.path.as_deref().is_some_and(|f| {
                    f == p || f.starts_with(&format!("{p}.")) || f.starts_with(&format!("{p}["))
                })
            })
            && self
                .message
                .as_ref()
                .is_none_or(|r| r.is_match(&fault.message))
    }
}

/// The first matching rule's answer, or `None` for an unmapped fault.
pub fn answer(rules: &[CompiledRule], fault: &Fault) -> Option<FaultAnswer> {
    rules
        .iter()
        .find(|r| r.matches(fault))
        .map(|r| r.answer(fault))
}

impl CompiledRule {
    /// The `code` the rule answers with, when it names one (else it is derived from the fault).
    pub(crate) fn error_code(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// What the rule matches, in words, for the docs: `code Server, message /divide by zero/`.
    pub(crate) fn condition(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = &self.code {
            parts.push(format!("code {c}"));
        }
        if let Some(s) = &self.subcode {
            parts.push(format!("subcode {s}"));
        }
        if let Some(p) = &self.path {
            parts.push(format!("path {p}"));
        }
        if let Some(m) = &self.message {
            parts.push(format!("message /{}/", m.as_str()));
        }
        if let Some(w) = &self.when {
            parts.push(format!("reply has {w}"));
        }
        if parts.is_empty() {
            "any fault".to_string()
        } else {
            parts.join(", ")
        }
    }

    /// What this rule answers for `fault`.
    pub(crate) fn answer(&self, fault: &Fault) -> FaultAnswer {
        FaultAnswer {
            status: self.status,
            code: self.error.clone().unwrap_or_else(|| default_code(fault)),
            detail: self.detail.clone().unwrap_or_else(|| fault.message.clone()),
        }
    }
}

/// `Client.CepInvalido` -> `cep_invalido`; a bare `Client` -> `client`.
fn default_code(fault: &Fault) -> String {
    let source = fault.subcodes.last().unwrap_or(&fault.code);
    let mut out = String::new();
    for (i, c) in source.chars().enumerate() {
        if c.is_uppercase() && i > 0 && !out.ends_with('_') {
            out.push('_');
        }
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(code: &str, subs: &[&str], message: &str) -> Fault {
        Fault {
            code: code.into(),
            subcodes: subs.iter().map(|s| s.to_string()).collect(),
            message: message.into(),
            detail: None,
            path: None,
        }
    }

    fn rule(
        code: Option<&str>,
        subcode: Option<&str>,
        message: Option<&str>,
        status: u16,
    ) -> CompiledRule {
        CompiledRule {
            code: code.map(Into::into),
            subcode: subcode.map(Into::into),
            path: None,
            message: message.map(|m| Regex::new(m).unwrap()),
            when: None,
            status,
            error: None,
            detail: None,
        }
    }

    #[test]
    fn client_rule_matches_sender_of_soap12() {
        let rules = [rule(Some("Client"), None, None, 422)];
        let a = answer(
            &rules,
            &fault("Sender", &["CepInvalido"], "CEP deve ter 8 digitos"),
        )
        .unwrap();
        assert_eq!(
            a,
            FaultAnswer {
                status: 422,
                code: "cep_invalido".into(),
                detail: "CEP deve ter 8 digitos".into()
            }
        );
    }

    #[test]
    fn first_matching_rule_wins_and_unmatched_is_none() {
        let rules = [
            rule(None, Some("CepNaoEncontrado"), None, 404),
            rule(Some("Server"), None, Some("(?i)timeout"), 504),
        ];
        assert_eq!(
            answer(&rules, &fault("Server", &["CepNaoEncontrado"], "x"))
                .unwrap()
                .status,
            404
        );
        assert_eq!(
            answer(&rules, &fault("Receiver", &[], "Timeout talking to DB"))
                .unwrap()
                .status,
            504
        );
        assert!(answer(&rules, &fault("Server", &[], "boom")).is_none());
    }
}
