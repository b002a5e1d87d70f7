//! The XML-over-HTTP backend kind end to end: what the backend receives for a GET with path and
//! query inputs, a form POST and an XML POST; how its statuses and error elements answer; that a
//! path input cannot leave the backend path; and that replies in the character encodings real
//! services answer in (Latin-1, Windows-1252, UTF-16) read as the right text.

mod common;

use std::collections::HashMap;

use common::{Answer, Ponte, Received, Reply, StandIn, leaf, leaves, repo_path, soap11};
use serde_json::json;

/// ponte over `tests/xmlhttp-adapters`, the `lab` backend at `backend_url`.
async fn lab(backend_url: &str) -> Ponte {
    let env = HashMap::from([("LAB_URL".to_string(), backend_url.to_string())]);
    Ponte::start(&repo_path("tests/xmlhttp-adapters"), env).await
}

/// A header the stand-in received, as text (empty when absent).
fn header<'a>(got: &'a Received, name: &str) -> &'a str {
    got.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// A reply of raw bytes with this Content-Type.
fn raw(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
    Reply::xml(status, body).with_type(content_type)
}

/// `text` in ISO-8859-1: one byte per character (every character here is below U+0100).
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 character"))
        .collect()
}

/// `text` in UTF-16LE, with a byte order mark.
fn utf16le_with_bom(text: &str) -> Vec<u8> {
    "\u{feff}"
        .encode_utf16()
        .chain(text.encode_utf16())
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// A GET with the request target sent byte for byte. reqwest, like every URL parser, resolves
/// `..` and `%2E%2E` segments before sending; the point here is what ponte does with them.
async fn raw_get(ponte: &Ponte, target: &str) -> Answer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = ponte.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        headers.append(
            reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
            value.trim().parse().unwrap(),
        );
    }
    assert!(
        !headers.contains_key("transfer-encoding"),
        "a chunked answer: {head}"
    );
    Answer {
        status: status.parse().unwrap(),
        headers,
        json: serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
        text: body.to_string(),
    }
}

const PRACA_DA_SE: &str = "<xmlcep><cep>01001-000</cep><logradouro>Praça da Sé</logradouro>\
     <localidade>São Paulo</localidade><uf>SP</uf></xmlcep>";

// --- What the backend receives -----------------------------------------------------------------

#[tokio::test]
async fn get_sends_the_path_input_as_a_segment_and_maps_the_reply() {
    let backend = StandIn::always(Reply::xml(200, PRACA_DA_SE)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/cep/01001000").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.content_type(), "application/json");
    assert_eq!(
        answer.json,
        json!({"street": "Praça da Sé", "city": "São Paulo"})
    );
    let got = backend.last();
    assert_eq!(got.method, "GET");
    assert_eq!(got.uri, "/service/ws/01001000/xml/");
    assert_eq!(header(&got, "content-type"), "");
    assert_eq!(got.body, "");
    assert_eq!(
        header(&got, "accept"),
        "application/xml, text/xml;q=0.9, */*;q=0.1"
    );
    assert_eq!(backend.count(), 1);
}

#[tokio::test]
async fn get_sends_literal_and_input_query_parameters_in_order() {
    let reply = "<series><item><data>01/05/2024</data><valor>0.38</valor></item>\
                 <item><data>01/06/2024</data><valor>0.21</valor></item></series>";
    let backend = StandIn::always(Reply::xml(200, reply)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/series/433?last=2").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"values": [
            {"date": "01/05/2024", "value": 0.38},
            {"date": "01/06/2024", "value": 0.21},
        ]})
    );
    let got = backend.last();
    assert_eq!(got.method, "GET");
    assert_eq!(got.uri, "/service/series/433?format=xml&last=2");
    assert_eq!(got.body, "");
}

#[tokio::test]
async fn an_absent_optional_query_input_is_left_out_of_the_query() {
    let reply = "<series><item><data>01/06/2024</data><valor>0.21</valor></item></series>";
    let backend = StandIn::always(Reply::xml(200, reply)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/series/433").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    // `arrays: [series.item]`: one item is still a list.
    assert_eq!(
        answer.json,
        json!({"values": [{"date": "01/06/2024", "value": 0.21}]})
    );
    assert_eq!(backend.last().uri, "/service/series/433?format=xml");
}

#[tokio::test]
async fn a_bad_typed_input_is_400_and_the_backend_is_not_called() {
    let backend = StandIn::always(Reply::xml(200, "<series/>")).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/series/433?last=two").await;
    answer.assert_problem(400, "bad_input");
    assert_eq!(answer.json["errors"][0]["field"], "last", "{}", answer.text);
    assert_eq!(backend.count(), 0);
}

#[tokio::test]
async fn form_post_sends_an_urlencoded_body() {
    let backend = StandIn::always(Reply::xml(200, "<result><price>23.40</price></result>")).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte
        .post_json("/lab/quote", &json!({"weight": 1.5, "zip": "01001000"}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json, json!({"price": 23.4}));
    let got = backend.last();
    assert_eq!(got.method, "POST");
    assert_eq!(got.uri, "/service/calc");
    assert_eq!(
        header(&got, "content-type"),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(got.body, "peso=1.5&cep=01001000");
}

#[tokio::test]
async fn form_values_are_encoded_so_they_cannot_add_fields() {
    let backend = StandIn::always(Reply::xml(200, "<result><price>1</price></result>")).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte
        .post_json(
            "/lab/quote",
            &json!({"weight": 2, "zip": "01001 000&peso=0"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(backend.last().body, "peso=2&cep=01001+000%26peso%3D0");
}

#[tokio::test]
async fn xml_post_sends_the_body_in_its_namespace() {
    let backend = StandIn::always(Reply::xml(
        200,
        r#"<order xmlns="urn:shop"><id>ORD-7</id><status>new</status></order>"#,
    ))
    .await;
    let ponte = lab(&backend.url).await;
    let answer = ponte
        .post_json("/lab/orders", &json!({"sku": "ABC-1", "qty": 2}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json, json!({"id": "ORD-7"}));
    let got = backend.last();
    assert_eq!(got.method, "POST");
    assert_eq!(got.uri, "/service/orders");
    assert_eq!(
        header(&got, "content-type"),
        "application/xml; charset=utf-8"
    );
    assert_eq!(
        got.body,
        r#"<?xml version="1.0" encoding="utf-8"?><order xmlns="urn:shop"><sku>ABC-1</sku><qty>2</qty></order>"#
    );
}

#[tokio::test]
async fn xml_post_escapes_values_so_they_stay_text() {
    let backend = StandIn::always(Reply::xml(200, "<order><id>1</id></order>")).await;
    let ponte = lab(&backend.url).await;
    let sku = "a<b&c</sku><qty>999</qty>";
    let answer = ponte
        .post_json("/lab/orders", &json!({"sku": sku, "qty": 2}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let sent = backend.last().body;
    assert_eq!(
        leaves(&sent),
        vec![leaf("urn:shop", "sku", sku), leaf("urn:shop", "qty", "2")],
        "{sent}"
    );
    assert_eq!(
        sent,
        r#"<?xml version="1.0" encoding="utf-8"?><order xmlns="urn:shop"><sku>a&lt;b&amp;c&lt;/sku&gt;&lt;qty&gt;999&lt;/qty&gt;</sku><qty>2</qty></order>"#
    );
}

// --- Backend statuses and error elements -------------------------------------------------------

#[tokio::test]
async fn backend_404_is_404_not_found_by_status_rule() {
    let page = "<html><body><h1>Not Found</h1></body></html>";
    let backend = StandIn::always(raw(404, "text/html", page)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/cep/99999999").await;
    answer.assert_problem(404, "not_found");
    assert_eq!(
        answer.detail(),
        "the backend has no result for this request (HTTP 404)"
    );
    assert_eq!(backend.count(), 1);
}

#[tokio::test]
async fn a_backend_refusing_pontes_credentials_is_backend_auth_failed() {
    let page = "<html><body>401 Authorization Required (gw-7 realm=intranet)</body></html>";
    let backend = StandIn::always(raw(401, "text/html", page)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/cep/01001000").await;
    answer.assert_problem(502, "backend_auth_failed");
    assert!(answer.detail().contains("HTTP 401"), "{}", answer.text);
    answer.assert_hides("gw-7");
}

#[tokio::test]
async fn backend_400_is_the_status_rules_code_and_detail() {
    let backend = StandIn::always(raw(
        400,
        "text/html",
        "<h1>Bad Request: CEP-PARSER-ERR</h1>",
    ))
    .await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/cep/0100").await;
    answer.assert_problem(400, "bad_cep");
    assert_eq!(answer.detail(), "the CEP is not valid");
    answer.assert_hides("CEP-PARSER-ERR");
}

#[tokio::test]
async fn backend_500_without_a_rule_is_502_without_the_backends_text() {
    let backend = StandIn::always(raw(
        500,
        "text/plain",
        "java.lang.NullPointerException at br.gov.SECRET.CepService",
    ))
    .await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/cep/01001000").await;
    answer.assert_problem(502, "bad_backend_reply");
    assert_eq!(
        answer.detail(),
        "the backend answered HTTP 500; no status rule maps it"
    );
    answer.assert_hides("NullPointerException");
    answer.assert_hides("SECRET");
    assert_eq!(backend.count(), 1, "a 500 is not retried");
}

#[tokio::test]
async fn an_error_element_in_a_200_reply_is_the_rules_answer() {
    let backend =
        StandIn::always(Reply::xml(200, "<xmlcep>\n  <erro>true</erro>\n</xmlcep>")).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/cep/99999999").await;
    answer.assert_problem(404, "cep_not_found");
    assert_eq!(answer.detail(), "no address has this CEP");
}

#[tokio::test]
async fn an_empty_error_element_is_present_all_the_same() {
    let backend = StandIn::always(Reply::xml(200, "<xmlcep><erro/></xmlcep>")).await;
    let ponte = lab(&backend.url).await;
    ponte
        .get("/lab/cep/99999999")
        .await
        .assert_problem(404, "cep_not_found");
}

// --- Path inputs that try to leave the backend path ----------------------------------------------

#[tokio::test]
async fn a_path_input_is_one_encoded_segment_under_the_backend_path() {
    let backend = StandIn::always(Reply::xml(200, PRACA_DA_SE)).await;
    let ponte = lab(&backend.url).await;
    for (sent, received) in [
        (
            "/lab/cep/..%2F..%2Fadmin",
            "/service/ws/..%2F..%2Fadmin/xml/",
        ),
        ("/lab/cep/a%2Fb", "/service/ws/a%2Fb/xml/"),
        (
            "/lab/cep/x%3Fadmin=1%23",
            "/service/ws/x%3Fadmin%3D1%23/xml/",
        ),
        ("/lab/cep/%252E%252E", "/service/ws/%252E%252E/xml/"),
        (
            "/lab/cep/S%C3%A3o%20Paulo",
            "/service/ws/S%C3%A3o%20Paulo/xml/",
        ),
        ("/lab/cep/...", "/service/ws/.../xml/"),
    ] {
        let answer = raw_get(&ponte, sent).await;
        assert_eq!(answer.status, 200, "{sent}: {}", answer.text);
        let got = backend.last();
        assert_eq!(got.method, "GET");
        assert_eq!(got.uri, received, "{sent}");
    }
    assert_eq!(backend.count(), 6);
}

#[tokio::test]
async fn a_dot_segment_path_input_is_400_and_the_backend_is_not_called() {
    let backend = StandIn::always(Reply::xml(200, PRACA_DA_SE)).await;
    let ponte = lab(&backend.url).await;
    for sent in [
        "/lab/cep/..",
        "/lab/cep/%2E%2E",
        "/lab/cep/.%2e",
        "/lab/cep/.",
        "/lab/cep/%2E",
    ] {
        let answer = raw_get(&ponte, sent).await;
        answer.assert_problem(400, "bad_input");
        assert_eq!(
            answer.json["errors"],
            json!([{"field": "cep", "in": "path", "problem": "`.` and `..` are not allowed here"}]),
            "{sent}: {}",
            answer.text
        );
        assert_eq!(
            answer.detail(),
            "cep: `.` and `..` are not allowed here",
            "{sent}"
        );
    }
    assert_eq!(backend.count(), 0);
}

// --- Character encodings of replies --------------------------------------------------------------

#[tokio::test]
async fn latin1_reply_declared_in_the_xml_declaration_reads_as_text() {
    let mut body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n".to_vec();
    body.extend(latin1(PRACA_DA_SE));
    assert!(body.contains(&0xe3), "S\\xe3o Paulo in one byte");
    // No charset in the Content-Type: only the declaration says what the bytes are.
    let backend = StandIn::always(raw(200, "text/xml", body)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/cep/01001000").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"street": "Praça da Sé", "city": "São Paulo"})
    );
}

#[tokio::test]
async fn windows1252_reply_declared_in_content_type_reads_as_text() {
    let body = b"<xmlcep><logradouro>\x93Pra\xe7a da S\xe9\x94</logradouro>\
                 <localidade>S\xe3o Paulo</localidade></xmlcep>"
        .to_vec();
    let backend = StandIn::always(raw(200, "text/xml; charset=windows-1252", body)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/cep/01001000").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"street": "\u{201c}Praça da Sé\u{201d}", "city": "São Paulo"})
    );
}

#[tokio::test]
async fn utf16le_reply_with_a_bom_reads_as_text() {
    let body = utf16le_with_bom(&format!(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>{PRACA_DA_SE}"
    ));
    assert_eq!(&body[..4], b"\xff\xfe<\0");
    let backend = StandIn::always(raw(200, "text/xml", body)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/cep/01001000").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"street": "Praça da Sé", "city": "São Paulo"})
    );
}

#[tokio::test]
async fn undeclared_invalid_bytes_are_502_not_replacement_characters() {
    let body =
        b"<xmlcep><logradouro>Rua A</logradouro><localidade>S\xffo Paulo</localidade></xmlcep>"
            .to_vec();
    let backend = StandIn::always(raw(200, "text/xml", body)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/cep/01001000").await;
    answer.assert_problem(502, "bad_backend_reply");
    assert_eq!(
        answer.detail(),
        "the reply is not valid UTF-8 text (HTTP 200)"
    );
    answer.assert_hides("\u{fffd}");
}

#[tokio::test]
async fn latin1_soap_reply_reads_as_text() {
    let envelope = soap11(
        r#"<ns2:consultaCEPResponse xmlns:ns2="http://cliente.bean.master.sigep.bsb.correios.com.br/"><return><bairro>Sé</bairro><cep>01001000</cep><cidade>São Paulo</cidade><complemento2>- lado ímpar</complemento2><end>Praça da Sé</end><uf>SP</uf></return></ns2:consultaCEPResponse>"#,
    )
    .replace(r#"encoding="utf-8""#, r#"encoding="ISO-8859-1""#);
    assert!(envelope.starts_with(r#"<?xml version="1.0" encoding="ISO-8859-1"?>"#));
    let backend = StandIn::always(raw(200, "text/xml", latin1(&envelope))).await;
    let ponte = Ponte::shipped(&backend).await;
    let answer = ponte.get("/correios/cep/01001-000").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"cep": "01001000", "street": "Praça da Sé", "complement": "- lado ímpar",
               "district": "Sé", "city": "São Paulo", "state": "SP"})
    );
}

// --- Hostile replies ------------------------------------------------------------------------------

#[tokio::test]
async fn a_reply_with_a_doctype_is_502_and_not_echoed() {
    let reply = r#"<?xml version="1.0"?><!DOCTYPE xmlcep [<!ENTITY leak SYSTEM "file:///etc/passwd"><!ENTITY lol "TOP-SECRET-42">]><xmlcep><logradouro>&leak;</logradouro><localidade>&lol;</localidade></xmlcep>"#;
    let backend = StandIn::always(Reply::xml(200, reply)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/cep/01001000").await;
    answer.assert_problem(502, "bad_backend_reply");
    assert_eq!(
        answer.detail(),
        "the reply contains a DOCTYPE (refused: entity declarations are unsafe) (HTTP 200)"
    );
    answer.assert_hides("TOP-SECRET-42");
    answer.assert_hides("/etc/passwd");
}

#[tokio::test]
async fn a_reply_with_two_root_elements_is_502() {
    let reply =
        "<xmlcep><localidade>A</localidade></xmlcep><xmlcep><localidade>B</localidade></xmlcep>";
    let backend = StandIn::always(Reply::xml(200, reply)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/cep/01001000").await;
    answer.assert_problem(502, "bad_backend_reply");
    assert_eq!(
        answer.detail(),
        "the reply is not well-formed XML (at byte 43: a second root element) (HTTP 200)"
    );
}

#[tokio::test]
async fn a_second_root_after_an_unmapped_first_root_is_502() {
    // `<other/>` is the document's root, and the mapping reads `<xmlcep>`: the reply is refused
    // at once, never taking the later `<xmlcep>` as if it were the root.
    let reply = "<other/><xmlcep><localidade>Forged</localidade></xmlcep>";
    let backend = StandIn::always(Reply::xml(200, reply)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/cep/01001000").await;
    answer.assert_problem(502, "bad_backend_reply");
    assert_eq!(
        answer.detail(),
        "the reply is XML but not the document the mapping reads (root element `other`) (HTTP 200)"
    );
    answer.assert_hides("Forged");
}

#[tokio::test]
async fn a_reply_with_another_root_element_is_502_naming_that_root() {
    let reply = "<error><message>internal failure</message></error>";
    let backend = StandIn::always(Reply::xml(200, reply)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/cep/01001000").await;
    answer.assert_problem(502, "bad_backend_reply");
    // Not "not well-formed ... no root element", which would be false on both counts.
    assert!(
        !answer.detail().contains("well-formed") && answer.detail().contains("`error`"),
        "{}",
        answer.text
    );
    answer.assert_hides("internal failure");
}

#[tokio::test]
async fn a_malformed_reply_quotes_at_most_a_short_piece_of_it() {
    let long = "Z".repeat(5000);
    let reply = format!("<xmlcep><localidade>A</{long}></xmlcep>");
    let backend = StandIn::always(Reply::xml(200, reply)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/cep/01001000").await;
    answer.assert_problem(502, "bad_backend_reply");
    assert!(
        answer
            .detail()
            .starts_with("the reply is not well-formed XML (at byte 21: "),
        "{}",
        answer.detail()
    );
    // Backend text in a message is cut short.
    answer.assert_hides(&"Z".repeat(65));
    assert!(answer.text.len() < 512, "{} bytes", answer.text.len());
}

#[tokio::test]
async fn xml_carried_in_a_text_field_is_mapped_by_path() {
    let reply = "<retorno><cStat>100</cStat><xmlNota>&lt;?xml version=\"1.0\" encoding=\"ISO-8859-1\"?&gt;&lt;nota&gt;&lt;numero&gt;42&lt;/numero&gt;&lt;total&gt;10.50&lt;/total&gt;&lt;itens&gt;&lt;item&gt;Pão&lt;/item&gt;&lt;/itens&gt;&lt;/nota&gt;</xmlNota></retorno>";
    let backend = StandIn::always(Reply::xml(200, reply)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/invoices/3519").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"status": "100", "invoice": {"number": 42, "total": 10.5, "items": ["Pão"]}})
    );
}

#[tokio::test]
async fn hostile_xml_inside_a_text_field_is_refused_like_a_reply() {
    let reply = "<retorno><cStat>100</cStat><xmlNota>&lt;!DOCTYPE nota [&lt;!ENTITY x SYSTEM \"file:///etc/passwd\"&gt;]&gt;&lt;nota&gt;&lt;numero&gt;&amp;x;&lt;/numero&gt;&lt;/nota&gt;</xmlNota></retorno>";
    let backend = StandIn::always(Reply::xml(200, reply)).await;
    let ponte = lab(&backend.url).await;
    let answer = ponte.get("/lab/invoices/3519").await;
    answer.assert_problem(502, "bad_backend_reply");
    assert_eq!(
        answer.detail(),
        "the backend reply does not fit the mapping: field `invoice`: the embedded XML: the reply contains a DOCTYPE (refused: entity declarations are unsafe)"
    );
    answer.assert_hides("passwd");
}
