//! Blanks the text of sensitive elements (passwords, tokens) in an XML document, for recordings.

use quick_xml::events::{BytesText, Event};
use quick_xml::{Reader, Writer};

pub const REDACTED: &str = "REDACTED";

/// Whether a field or element name looks like it holds a secret.
pub fn is_sensitive(name: &str, extra: &[String]) -> bool {
    const WORDS: &[&str] = &[
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "authorization",
        "credential",
        "nonce",
    ];
    let lower = name.to_ascii_lowercase();
    WORDS.iter().any(|w| lower.contains(w)) || extra.iter().any(|e| e.eq_ignore_ascii_case(name))
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
