//! Structural XML comparison for contract tests: elements by namespace URI and local name,
//! attribute sets, whitespace-insensitive text; prefixes and formatting never matter. Every
//! difference is reported.

use std::collections::BTreeMap;

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

#[derive(Debug, PartialEq)]
pub struct Element {
    pub ns: String,
    pub local: String,
    pub attrs: BTreeMap<(String, String), String>,
    pub children: Vec<Element>,
    pub text: String,
}

/// Parses a document into its root element.
pub fn parse(xml: &str) -> Result<Element, String> {
    let mut reader = NsReader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let offset = reader.buffer_position();
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("not well-formed XML at byte {offset}: {e}"))?;
        let ns = match ns {
            ResolveResult::Bound(n) => n.0.to_string(),
            _ => String::new(),
        };
        match event {
            Event::Start(e) => stack.push(element(&reader, &e, ns)?),
            Event::Empty(e) => {
                let element = element(&reader, &e, ns)?;
                if stack.is_empty() {
                    return Ok(element);
                }
                close(&mut stack, element)?;
            }
            Event::End(_) => {
                let element = stack.pop().ok_or("unbalanced end tag")?;
                if stack.is_empty() {
                    return Ok(finish(element));
                }
                close(&mut stack, element)?;
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&c);
                }
            }
            Event::GeneralRef(r) => {
                let c = super::reader::resolve_entity(&r).map_err(|e| e.to_string())?;
                if let Some(top) = stack.last_mut() {
                    top.text.push(c);
                }
            }
            Event::DocType(_) => return Err("a DOCTYPE is not allowed".into()),
            Event::Eof => return Err("no root element, or the document ends early".into()),
            _ => {}
        }
    }
}

fn element(
    reader: &NsReader<&[u8]>,
    e: &quick_xml::events::BytesStart,
    ns: String,
) -> Result<Element, String> {
    let mut attrs = BTreeMap::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        if a.key.as_namespace_binding().is_some() {
            continue;
        }
        let (ans, local) = reader.resolver().resolve_attribute(a.key);
        let ans = match ans {
            ResolveResult::Bound(n) => n.0.to_string(),
            _ => String::new(),
        };
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?;
        attrs.insert((ans, local.as_ref().to_string()), value.into_owned());
    }
    Ok(Element {
        ns,
        local: e.local_name().as_ref().to_string(),
        attrs,
        children: Vec::new(),
        text: String::new(),
    })
}

fn close(stack: &mut [Element], element: Element) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(finish(element));
            Ok(())
        }
        None => Err("content after the root element".into()),
    }
}

fn finish(mut e: Element) -> Element {
    e.text = e.text.split_whitespace().collect::<Vec<_>>().join(" ");
    e
}

/// Compares a whole document sent (`text`) with the expected one, when a case gives one.
pub fn check_envelope(expected: Option<&Element>, text: &str, problems: &mut Vec<String>) {
    let Some(expected) = expected else { return };
    match parse(text) {
        Ok(actual) => {
            problems.extend(
                diff(expected, &actual)
                    .into_iter()
                    .map(|d| format!("backend request: {d}")),
            );
        }
        Err(e) => problems.push(format!("backend request: {e}")),
    }
}

/// Every difference between `expected` and `actual`, as `path: expected X, got Y`,
/// `path: missing (...)` or `path: unexpected ...`.
pub fn diff(expected: &Element, actual: &Element) -> Vec<String> {
    let mut found = Vec::new();
    walk(expected, actual, &expected.local, &mut found);
    found
}

fn name(e: &Element) -> String {
    if e.ns.is_empty() {
        e.local.clone()
    } else {
        format!("{{{}}}{}", e.ns, e.local)
    }
}

fn walk(exp: &Element, act: &Element, path: &str, found: &mut Vec<String>) {
    if exp.local != act.local || exp.ns != act.ns {
        // Another element: what is below it cannot be compared.
        return found.push(format!(
            "{path}: expected element {}, got {}",
            name(exp),
            name(act)
        ));
    }
    if exp.attrs != act.attrs {
        let show = |a: &BTreeMap<(String, String), String>| {
            a.iter()
                .map(|((_, k), v)| format!("{k}={v:?}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        found.push(format!(
            "{path}: expected attributes [{}], got [{}]",
            show(&exp.attrs),
            show(&act.attrs)
        ));
    }
    if exp.text != act.text {
        found.push(format!(
            "{path}: expected {:?}, got {:?}",
            exp.text, act.text
        ));
    }
    for (i, e) in exp.children.iter().enumerate() {
        let here = format!("{path}/{}", e.local);
        match act.children.get(i) {
            Some(a) => walk(e, a, &here, found),
            None => found.push(format!("{here}: missing (expected element {})", name(e))),
        }
    }
    for extra in act.children.iter().skip(exp.children.len()) {
        found.push(format!(
            "{path}/{}: unexpected element {}",
            extra.local,
            name(extra)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_whitespace_do_not_matter() {
        let a =
            parse(r#"<s:E xmlns:s="urn:s"><s:B>  <x:A xmlns:x="urn:t" k="1">2</x:A> </s:B></s:E>"#)
                .unwrap();
        let b =
            parse("<E xmlns=\"urn:s\">\n <B><A xmlns=\"urn:t\" k=\"1\">\n2\n</A></B></E>").unwrap();
        assert_eq!(diff(&a, &b), Vec::<String>::new());
    }

    #[test]
    fn reports_every_difference_with_its_path() {
        let a =
            parse(r#"<E xmlns="urn:s"><Body><Add><intA>2</intA><intB>3</intB></Add></Body></E>"#)
                .unwrap();
        let b =
            parse(r#"<E xmlns="urn:s"><Body><Add><intA>2</intA><intB>4</intB></Add></Body></E>"#)
                .unwrap();
        assert_eq!(
            diff(&a, &b),
            vec![r#"E/Body/Add/intB: expected "3", got "4""#]
        );
        let d =
            parse(r#"<E xmlns="urn:s"><Body><Add><intA>1</intA></Add><X/></Body></E>"#).unwrap();
        assert_eq!(
            diff(&a, &d),
            vec![
                r#"E/Body/Add/intA: expected "2", got "1""#,
                "E/Body/Add/intB: missing (expected element {urn:s}intB)",
                "E/Body/X: unexpected element {urn:s}X",
            ]
        );
        let c = parse(r#"<E xmlns="urn:other"><Body/></E>"#).unwrap();
        assert!(diff(&a, &c)[0].starts_with("E: expected element {urn:s}E"));
    }
}
