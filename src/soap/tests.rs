use serde_json::{Value, json};

use super::reply::{SoapReply, read_soap};
use crate::faults::Fault;
use crate::mapping::node::Node as _;
use crate::mapping::path::Path;
use crate::xml::reader::{ArrayHints, Limits, XmlError};

/// The reply as JSON: the Body's content, or the fault.
fn json_of(reply: SoapReply) -> Result<Value, Box<Fault>> {
    match reply {
        SoapReply::Body(doc) => Ok(doc.body().to_value()),
        SoapReply::Fault(f) => Err(Box::new(f)),
    }
}

fn body(xml: &str) -> Value {
    match read_soap(xml, &ArrayHints::default(), Limits::default()).map(json_of) {
        Ok(Ok(v)) => v,
        other => panic!("expected a body, got {other:?}"),
    }
}

fn env11(inner: &str) -> String {
    format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:Session xmlns:h="urn:h">1</h:Session></s:Header><s:Body>{inner}</s:Body></s:Envelope>"#
    )
}

#[test]
fn prefixes_and_default_namespaces_do_not_matter() {
    let a = body(&env11(r#"<r:R xmlns:r="urn:x"><r:V>1</r:V></r:R>"#));
    let b = body(&env11(r#"<R xmlns="urn:x"><V>1</V></R>"#));
    assert_eq!(a, json!({"R": {"V": "1"}}));
    assert_eq!(a, b);
}

#[test]
fn repeated_elements_become_arrays_and_mixed_text_is_kept() {
    let v = body(&env11(
        r#"<R><I>a</I><I>b</I><I>c</I><M lang="pt">olá <b>x</b></M></R>"#,
    ));
    assert_eq!(
        v,
        json!({"R": {"I": ["a", "b", "c"], "M": {"@lang": "pt", "#text": "olá ", "b": "x"}}})
    );
}

#[test]
fn hinted_paths_are_arrays_even_with_one_element() {
    let hints = ArrayHints::from_paths(&[Path::parse("R.L.I[*].N").unwrap()]);
    let xml = env11("<R><L><I><N>1</N></I></L></R>");
    let SoapReply::Body(v) = read_soap(&xml, &hints, Limits::default()).unwrap() else {
        panic!()
    };
    assert_eq!(
        v.body().to_value(),
        json!({"R": {"L": {"I": [{"N": "1"}]}}})
    );
}

#[test]
fn xsi_types_give_json_numbers_and_booleans() {
    let v = body(&env11(
        r#"<R xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><n xsi:type="xsd:int">42</n><d xsi:type="xsd:double">2.5</d><b xsi:type="xsd:boolean">true</b><s xsi:type="xsd:string">007</s></R>"#,
    ));
    assert_eq!(v, json!({"R": {"n": 42, "d": 2.5, "b": true, "s": "007"}}));
}

#[test]
fn soap11_fault_with_dotted_code() {
    let xml = env11(
        "<s:Fault><faultcode>s:Client.CepInvalido</faultcode><faultstring>bad</faultstring><detail><campo>cep</campo></detail></s:Fault>",
    );
    let hints = ArrayHints::default();
    let reply = read_soap(&xml, &hints, Limits::default()).unwrap();
    assert_eq!(
        json_of(reply),
        Err(Box::new(Fault {
            code: "Client".into(),
            subcodes: vec!["CepInvalido".into()],
            message: "bad".into(),
            detail: Some(json!({"campo": "cep"})),
            path: None,
        }))
    );
}

#[test]
fn soap12_fault_with_nested_subcodes() {
    let xml = r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:m="urn:m"><e:Body><e:Fault><e:Code><e:Value>e:Sender</e:Value><e:Subcode><e:Value>m:Validation</e:Value><e:Subcode><e:Value>m:TooShort</e:Value></e:Subcode></e:Subcode></e:Code><e:Reason><e:Text xml:lang="en">too short</e:Text><e:Text xml:lang="pt">curto</e:Text></e:Reason></e:Fault></e:Body></e:Envelope>"#;
    let SoapReply::Fault(f) = read_soap(xml, &ArrayHints::default(), Limits::default()).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (f.code.as_str(), f.subcodes.clone(), f.message.as_str()),
        (
            "Sender",
            vec!["Validation".to_string(), "TooShort".to_string()],
            "too short"
        )
    );
    assert_eq!(f.full_code(), "Sender.Validation.TooShort");
}

#[test]
fn a_fault_element_outside_the_soap_namespace_is_data() {
    let v = body(&env11(
        r#"<Fault xmlns="urn:app"><faultcode>x</faultcode></Fault>"#,
    ));
    assert_eq!(v, json!({"Fault": {"faultcode": "x"}}));
}

#[test]
fn hostile_and_broken_replies_are_refused_with_reasons() {
    let read = |xml: &[u8]| {
        let read = |xml: &[u8]| -> Result<(), XmlError> {
            let text = crate::xml::charset::decode(xml, None)?;
            read_soap(&text, &ArrayHints::default(), Limits { max_depth: 8 }).map(|_| ())
        };
        read(xml).unwrap_err()
    };
    assert_eq!(read(b""), XmlError::Empty);
    assert_eq!(
        read(b"<a>\xff</a>"),
        XmlError::BadEncoding {
            encoding: "UTF-8".into()
        }
    );
    assert_eq!(read(b"<!DOCTYPE html><html></html>"), XmlError::Html);
    assert_eq!(
        read(b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>"),
        XmlError::DocType
    );
    assert_eq!(
        read(env11("<a>&e;</a>").as_bytes()),
        XmlError::UnknownEntity("e".into())
    );
    assert_eq!(
        read(env11(&"<a>".repeat(10)).as_bytes()),
        XmlError::TooDeep(8)
    );
    assert_eq!(
        read(b"<result>1</result>"),
        XmlError::WrongRoot {
            expected: "a SOAP envelope",
            root: "result".into()
        }
    );
    assert_eq!(
        read(br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"></s:Envelope>"#),
        XmlError::Missing("the SOAP envelope has no Body")
    );
    assert!(matches!(
        read(env11("<a><b></a>").as_bytes()),
        XmlError::Syntax { .. }
    ));
    assert!(matches!(
        read(b"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><a>"),
        XmlError::Syntax { .. }
    ));
}

fn pruned(paths: &[&str], xml: &str) -> Result<Result<Value, Box<Fault>>, XmlError> {
    let paths: Vec<Path> = paths.iter().map(|p| Path::parse(p).unwrap()).collect();
    let hints = ArrayHints::from_paths(&paths).pruning(true);
    read_soap(xml, &hints, Limits { max_depth: 12 }).map(json_of)
}

#[test]
fn pruning_builds_only_what_the_mapping_reads() {
    let xml = env11(
        r#"<R><A><X><Y>1</Y></X></A><B><C>big</C></B><I id="7"><N>n</N><Junk>j</Junk></I></R>"#,
    );
    let reply = pruned(&["R.A", "R.I.@id", "R.I.N"], &xml).unwrap();
    assert_eq!(
        reply,
        Ok(json!({"R": {"A": {"X": {"Y": "1"}}, "I": {"@id": "7", "N": "n"}}}))
    );
}

#[test]
fn pruning_never_hides_a_fault_or_a_hostile_reply() {
    let fault =
        env11("<s:Fault><faultcode>s:Server</faultcode><faultstring>down</faultstring></s:Fault>");
    assert!(matches!(pruned(&["R.A"], &fault), Ok(Err(f)) if f.code == "Server"));
    let deep = env11(&format!("<R><Skipped>{}</Skipped></R>", "<a>".repeat(20)));
    assert_eq!(pruned(&["R.A"], &deep).unwrap_err(), XmlError::TooDeep(12));
    let broken = env11("<R><Skipped><a></b></Skipped></R>");
    assert!(matches!(
        pruned(&["R.A"], &broken),
        Err(XmlError::Syntax { .. })
    ));
}

/// Deterministic mutations of real-looking replies: whatever the bytes, the reader answers with a
/// value or an error, never a panic.
#[test]
fn mutated_replies_never_panic() {
    let seed_docs = [
        env11(
            r#"<R xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><I id="1"><N>a &amp; b</N><V xsi:type="xsd:int">7</V></I><I id="2"><N><![CDATA[x]]></N><E xsi:nil="true"/></I></R>"#,
        ),
        env11("<s:Fault><faultcode>s:Client.X</faultcode><faultstring>bad</faultstring></s:Fault>"),
    ];
    let hints = ArrayHints::from_paths(&[Path::parse("R.I[*].N").unwrap()]).pruning(true);
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"<>/&;:=\"' \n\x00\xff\xc3\xa9#[]!?-xsiabc";
    for doc in &seed_docs {
        for _ in 0..3000 {
            let mut bytes = doc.as_bytes().to_vec();
            for _ in 0..(next() % 4 + 1) {
                let at = (next() as usize) % bytes.len();
                match next() % 3 {
                    0 => bytes[at] = alphabet[(next() as usize) % alphabet.len()],
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, alphabet[(next() as usize) % alphabet.len()]),
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            let _ = read_soap(&text, &hints, Limits::default());
            let _ = read_soap(&text, &ArrayHints::default(), Limits { max_depth: 4 });
        }
    }
}

/// Bodies that exercise every JSON convention: repeats, attributes, mixed text, nil, xsi types,
/// empty elements, namespaces and entities.
const VARIED: &[&str] = &[
    r#"<R id="1" a:id="2" xmlns:a="urn:a"><A><B>x</B></A><A><B>y</B><B>z</B></A><C/><D>  </D></R>"#,
    r#"<R>lead<M k="v">text &amp; more<N>1</N>tail</M><L><I><N>1</N></I></L></R>"#,
    r#"<R xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Nil xsi:nil="true"><X>1</X></Nil><T xsi:type="xsd:int">7</T><F xsi:type="xsd:int">seven</F></R>"#,
    r#"<R><E></E><L/><S><![CDATA[<raw>]]></S><W>a&#x20;b</W></R>"#,
    r#"<R/>"#,
];

const PROBES: &[&str] = &[
    "R",
    "R.A",
    "R.A[*]",
    "R.A[0]",
    "R.A[1].B",
    "R.A[*].B",
    "R.A[*].B[*]",
    "R.A[2]",
    "R.@id",
    "R.#text",
    "R.M",
    "R.M.#text",
    "R.M.@k",
    "R.M[0].N",
    "R.L.I[*].N",
    "R.L.I[0].N",
    "R.C",
    "R.D",
    "R.Nil",
    "R.Nil.X",
    "R.Nil[*]",
    "R.T",
    "R.F",
    "R.E",
    "R.L",
    "R.S",
    "R.W",
    "R.Q",
    "R.Q[*]",
    "R.Q[*].Z",
];

/// The index must answer every path exactly as the JSON it stands for would.
#[test]
fn the_index_answers_paths_as_its_json_does() {
    use crate::mapping::node::Node;
    use crate::mapping::path::Selected;
    let paths: Vec<Path> = PROBES.iter().map(|p| Path::parse(p).unwrap()).collect();
    let hinted = ArrayHints::from_paths(&[
        Path::parse("R.Q[*].Z").unwrap(),
        Path::parse("R.L.I[*].N").unwrap(),
        Path::parse("R.A[*]").unwrap(),
    ]);
    let all_hints = [
        ArrayHints::default(),
        hinted.clone(),
        ArrayHints::from_paths(&paths).pruning(true),
    ];
    for inner in VARIED {
        let xml = env11(inner);
        for hints in &all_hints {
            let Ok(SoapReply::Body(doc)) = read_soap(&xml, hints, Limits::default()) else {
                panic!("{inner} does not read")
            };
            let json = doc.body().to_value();
            for path in &paths {
                let from_doc = match path.select(doc.body()) {
                    None => None,
                    Some(Selected::One(n)) => {
                        assert_eq!(n.as_str(), n.to_value().as_str(), "{inner} {path}");
                        assert_eq!(n.is_blank(), (&n.to_value()).is_blank(), "{inner} {path}");
                        assert_eq!(n.is_null(), n.to_value().is_null(), "{inner} {path}");
                        Some(n.to_value())
                    }
                    Some(Selected::Many(items)) => Some(Value::Array(
                        items.into_iter().map(|n| n.to_value()).collect(),
                    )),
                };
                let from_json = match path.select(&json) {
                    None => None,
                    Some(Selected::One(v)) => Some(v.clone()),
                    Some(Selected::Many(items)) => {
                        Some(Value::Array(items.into_iter().cloned().collect()))
                    }
                };
                assert_eq!(from_doc, from_json, "{inner} at {path}");
            }
        }
    }
}

#[test]
fn mixed_text_attributes_nil_and_entities_follow_the_conventions() {
    let v = body(&env11(VARIED[1]));
    assert_eq!(
        v,
        json!({"R": {"M": {"@k": "v", "N": "1", "#text": "text & moretail"}, "L": {"I": {"N": "1"}}, "#text": "lead"}})
    );
    let v = body(&env11(VARIED[2]));
    assert_eq!(v, json!({"R": {"Nil": null, "T": 7, "F": "seven"}}));
    let v = body(&env11(VARIED[3]));
    assert_eq!(
        v,
        json!({"R": {"E": "", "L": "", "S": "<raw>", "W": "a b"}})
    );
    let v = body(&env11(VARIED[0]));
    assert_eq!(
        v,
        json!({"R": {"@id": "2", "A": [{"B": "x"}, {"B": ["y", "z"]}], "C": "", "D": "  "}})
    );
}
