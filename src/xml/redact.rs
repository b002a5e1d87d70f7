//! Blanks the text of sensitive elements (passwords, tokens) in an XML document, for recordings.

use quick_xml::events::{BytesText, Event};
use quick_xml::{Reader, Writer};

pub const REDACTED: &str = "REDACTED";

/// Whether a header, parameter, field or element name looks like it holds a secret: it contains
/// one of the words below (case, `-` and `_` aside: `X-Api-Key`, `api_key`), or is one of `extra`
/// (the adapter's `redact:` names). A prefix (`wsse:Password`) is not part of the name. The one
/// rule for recordings and the call log alike.
pub fn is_sensitive<S: AsRef<str>>(name: &str, extra: &[S]) -> bool {
    const WORDS: &[&str] = &[
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "authorization",
        "credential",
        "cookie",
        "signature",
        "nonce",
    ];
    let local = name.rsplit(':').next().unwrap_or(name);
    if extra.iter().any(|e| e.as_ref().eq_ignore_ascii_case(local)) {
        return true;
    }
    let squashed: String = local
        .chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    WORDS.iter().any(|w| squashed.contains(w))
}

/// The document with the text of every sensitive element replaced. Documents that do not parse
/// are returned unchanged (they hold no elements to redact).
pub fn redact(xml: &str, extra: &[String]) -> String {
    let mut reader = Reader::from_str(xml);
    let mut writer = Writer::new(Vec::with_capacity(xml.len()));
    let mut depth_in_secret: Option<usize> = None;
    let mut depth = 0usize;
    loop {
        let event = match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(e) => e,
            Err(_) => return xml.to_string(),
        };
        match &event {
            Event::Start(e) => {
                depth += 1;
                let local = e.local_name();
                if depth_in_secret.is_none() && is_sensitive(local.as_ref(), extra) {
                    depth_in_secret = Some(depth);
                    if writer.write_event(event.clone()).is_err()
                        || writer
                            .write_event(Event::Text(BytesText::new(REDACTED)))
                            .is_err()
                    {
                        return xml.to_string();
                    }
                    continue;
                }
            }
            Event::End(_) => {
                // The end tags of elements inside a secret go with their start tags.
                let inside = depth_in_secret.is_some_and(|d| depth > d);
                if depth_in_secret == Some(depth) {
                    depth_in_secret = None;
                }
                depth = depth.saturating_sub(1);
                if inside {
                    continue;
                }
            }
            _ => {}
        }
        if depth_in_secret.is_some() && !matches!(event, Event::End(_)) {
            continue;
        }
        if writer.write_event(event).is_err() {
            return xml.to_string();
        }
    }
    String::from_utf8(writer.into_inner()).unwrap_or_else(|_| xml.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_with_children_stays_well_formed() {
        let out = redact(
            "<T><UsernameToken><U>u</U><P>p</P></UsernameToken></T>",
            &[],
        );
        assert_eq!(out, "<T><UsernameToken>REDACTED</UsernameToken></T>");
    }

    #[test]
    fn recordings_hide_what_the_call_log_hides() {
        // One rule for both: a recorded reply's Cookie or Signature was kept while the call log
        // masked it, when each had its own list of words.
        let out = redact(
            "<a><SessionCookie>c</SessionCookie><ds:SignatureValue>s</ds:SignatureValue><Id>1</Id></a>",
            &[] as &[String],
        );
        assert_eq!(
            out,
            "<a><SessionCookie>REDACTED</SessionCookie><ds:SignatureValue>REDACTED</ds:SignatureValue><Id>1</Id></a>"
        );
        for name in ["X-Api-Key", "api_key", "wsse:Nonce", "Cookie", "CPF"] {
            assert!(is_sensitive(name, &["cpf"]), "{name}");
        }
        assert!(!is_sensitive("Content-Type", &[] as &[String]));
    }

    #[test]
    fn blanks_secret_elements_and_keeps_the_rest() {
        let xml = r#"<E><H><wsse:Password Type="x">hunter2</wsse:Password><Nonce>abc</Nonce></H><B><Name>Ada &amp; co</Name><AccessToken><v>t</v></AccessToken></B></E>"#;
        let out = redact(xml, &[]);
        assert!(
            !out.contains("hunter2") && !out.contains(">abc<") && !out.contains("<v>"),
            "{out}"
        );
        assert!(
            out.contains(r#"<wsse:Password Type="x">REDACTED</wsse:Password>"#),
            "{out}"
        );
        assert!(out.contains("<Name>Ada &amp; co</Name>"), "{out}");
        assert_eq!(
            redact("<a><Cpf>1</Cpf></a>", &["cpf".into()]),
            "<a><Cpf>REDACTED</Cpf></a>"
        );
    }
}
