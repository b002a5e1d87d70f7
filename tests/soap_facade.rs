//! The shipped adapters end to end: what the backend receives and what the caller gets back.

mod common;

use common::{Ponte, Reply, StandIn, leaf, leaves, soap11, soap12};
use serde_json::json;

const TEMPURI: &str = "http://tempuri.org/";
const COUNTRY_NS: &str = "http://www.oorsprong.org/websamples.countryinfo";
const CORREIOS_NS: &str = "http://cliente.bean.master.sigep.bsb.correios.com.br/";

fn calc_reply(op: &str, result: i64) -> String {
    soap11(&format!(
        r#"<{op}Response xmlns="http://tempuri.org/"><{op}Result>{result}</{op}Result></{op}Response>"#
    ))
}

#[tokio::test]
async fn calculator_add_sends_soap11_and_returns_a_number() {
    let backend = StandIn::always(Reply::xml(200, calc_reply("Add", 5))).await;
    let ponte = Ponte::shipped(&backend).await;

    let answer = ponte.get("/calculator/add?a=2&b=3").await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.content_type(), "application/json");
    assert_eq!(answer.json, json!({"result": 5}));
    let sent = backend.last();
    assert_eq!(sent.headers["soapaction"], "\"http://tempuri.org/Add\"");
    assert_eq!(sent.headers["content-type"], "text/xml; charset=utf-8");
    assert_eq!(
        leaves(&sent.body),
        vec![leaf(TEMPURI, "intA", "2"), leaf(TEMPURI, "intB", "3")]
    );
    assert!(
        sent.body
            .contains("http://schemas.xmlsoap.org/soap/envelope/")
    );
}

#[tokio::test]
async fn calculator_all_four_operations_over_soap11_and_soap12() {
    for (prefix, soap) in [("calculator", 11), ("calculator12", 12)] {
        for (route, op, result) in [
            ("add", "Add", 9),
            ("subtract", "Subtract", 3),
            ("multiply", "Multiply", 18),
            ("divide", "Divide", 2),
        ] {
            let body = format!(
                r#"<{op}Response xmlns="http://tempuri.org/"><{op}Result>{result}</{op}Result></{op}Response>"#
            );
            let reply = if soap == 11 {
                Reply::xml(200, soap11(&body))
            } else {
                Reply::xml(200, soap12(&body)).with_type("application/soap+xml; charset=utf-8")
            };
            let backend = StandIn::always(reply).await;
            let ponte = Ponte::shipped(&backend).await;
            let answer = ponte.get(&format!("/{prefix}/{route}?a=6&b=3")).await;
            assert_eq!(answer.status, 200, "{prefix}/{route}: {}", answer.text);
            assert_eq!(answer.json, json!({"result": result}));
            let sent = backend.last();
            assert_eq!(
                leaves(&sent.body),
                vec![leaf(TEMPURI, "intA", "6"), leaf(TEMPURI, "intB", "3")]
            );
            if soap == 12 {
                assert_eq!(
                    sent.headers["content-type"],
                    format!(
                        "application/soap+xml; charset=utf-8; action=\"http://tempuri.org/{op}\""
                    )
                    .as_str()
                );
                assert!(sent.headers.get("soapaction").is_none());
                assert!(
                    sent.body
                        .contains("http://www.w3.org/2003/05/soap-envelope")
                );
            }
        }
    }
}

#[tokio::test]
async fn countryinfo_list_maps_an_array_of_complex_types() {
    let backend = StandIn::always(Reply::xml(
        200,
        soap11(&format!(
            r#"<m:ListOfCountryNamesByNameResponse xmlns:m="{COUNTRY_NS}"><m:ListOfCountryNamesByNameResult>
                <m:tCountryCodeAndName><m:sISOCode>AX</m:sISOCode><m:sName>Åland Islands</m:sName></m:tCountryCodeAndName>
                <m:tCountryCodeAndName><m:sISOCode>BR</m:sISOCode><m:sName>Brazil</m:sName></m:tCountryCodeAndName>
            </m:ListOfCountryNamesByNameResult></m:ListOfCountryNamesByNameResponse>"#
        )),
    ))
    .await;
    let ponte = Ponte::shipped(&backend).await;
    let answer = ponte.get("/countryinfo/countries").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"countries": [{"code": "AX", "name": "Åland Islands"}, {"code": "BR", "name": "Brazil"}]})
    );
    let sent = backend.last();
    assert_eq!(sent.headers["soapaction"], "\"\"");
    assert_eq!(
        leaves(&sent.body),
        vec![leaf(COUNTRY_NS, "ListOfCountryNamesByName", "")]
    );
}

#[tokio::test]
async fn a_single_element_is_still_an_array_and_none_is_empty() {
    for (items, expected) in [
        (
            "<m:tLanguage><m:sISOCode>pt</m:sISOCode><m:sName>Portuguese</m:sName></m:tLanguage>",
            json!([{"code": "pt", "name": "Portuguese"}]),
        ),
        ("", json!([])),
    ] {
        let backend = StandIn::always(Reply::xml(
            200,
            soap11(&format!(
                r#"<m:FullCountryInfoResponse xmlns:m="{COUNTRY_NS}"><m:FullCountryInfoResult>
                <m:sISOCode>BR</m:sISOCode><m:sName>Brazil</m:sName><m:sCapitalCity>Brasilia</m:sCapitalCity>
                <m:sPhoneCode>55</m:sPhoneCode><m:sContinentCode>AM</m:sContinentCode><m:sCurrencyISOCode>BRL</m:sCurrencyISOCode>
                <m:sCountryFlag>http://flags.example/BR.jpg</m:sCountryFlag><m:Languages>{items}</m:Languages>
                </m:FullCountryInfoResult></m:FullCountryInfoResponse>"#
            )),
        ))
        .await;
        let ponte = Ponte::shipped(&backend).await;
        let answer = ponte.get("/countryinfo/countries/BR").await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.json["languages"], expected);
        assert_eq!(answer.json["capital"], "Brasilia");
        assert_eq!(
            leaves(&backend.last().body),
            vec![leaf(COUNTRY_NS, "sCountryISOCode", "BR")]
        );
    }
}

#[tokio::test]
async fn correios_cep_sends_unqualified_children_and_maps_the_address() {
    let backend = StandIn::always(Reply::xml(
        200,
        soap11(&format!(
            r#"<ns2:consultaCEPResponse xmlns:ns2="{CORREIOS_NS}"><return><bairro>Sé</bairro><cep>01001000</cep><cidade>São Paulo</cidade><complemento2>- lado ímpar</complemento2><end>Praça da Sé</end><uf>SP</uf></return></ns2:consultaCEPResponse>"#
        )),
    ))
    .await;
    let ponte = Ponte::shipped(&backend).await;
    let answer = ponte.get("/correios/cep/01001-000").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"cep": "01001000", "street": "Praça da Sé", "complement": "- lado ímpar", "district": "Sé", "city": "São Paulo", "state": "SP"})
    );
    let sent = backend.last();
    assert_eq!(sent.headers["soapaction"], "\"consultaCEP\"");
    assert_eq!(leaves(&sent.body), vec![leaf("", "cep", "01001-000")]);
    assert!(sent.body.contains("<tns:consultaCEP>"), "{}", sent.body);
}

#[tokio::test]
async fn correios_empty_return_is_404() {
    let backend = StandIn::always(Reply::xml(
        200,
        soap11(&format!(
            r#"<ns2:consultaCEPResponse xmlns:ns2="{CORREIOS_NS}"/>"#
        )),
    ))
    .await;
    let ponte = Ponte::shipped(&backend).await;
    ponte
        .get("/correios/cep/99999999")
        .await
        .assert_problem(404, "not_found");
}
