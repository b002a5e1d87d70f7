//! `ponte import wsdl`: the adapters it writes pass `ponte check` unchanged and answer correctly
//! against stand-ins shaped like the real services; ponte's own small WSDLs cover the constructs
//! the corpus does not (tests/wsdl/); the corpus ones run with PONTE_CORPUS.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::{
    Ponte, Reply, StandIn, corpus, repo_path, run_ponte as ponte, run_ponte_in, soap11, soap12,
};
use serde_json::json;

/// An import written to a fresh folder that `ponte check` accepts unchanged.
struct Imported {
    dir: tempfile::TempDir,
    yaml: String,
    stderr: String,
}

impl Imported {
    fn folder(&self) -> &Path {
        self.dir.path()
    }
}

fn import(wsdl: &Path, extra: &[&str]) -> Imported {
    let dir = tempfile::tempdir().unwrap();
    let adapters = dir.path().join("adapters");
    std::fs::create_dir(&adapters).unwrap();
    let out = adapters.join("imported.yaml");
    let mut args = vec![
        "import",
        "wsdl",
        wsdl.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, _, stderr) = ponte(&args);
    assert_eq!(code, 0, "import failed: {stderr}");
    let (code, _, check_err) = ponte(&["check", "--adapters", adapters.to_str().unwrap()]);
    let yaml = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        code, 0,
        "the imported adapter fails ponte check:\n{check_err}\n{yaml}"
    );
    Imported { dir, yaml, stderr }
}

fn own(name: &str) -> PathBuf {
    repo_path(&format!("tests/wsdl/{name}"))
}

async fn serve(imported: &Imported, var: &str, backend: &StandIn) -> Ponte {
    let env = HashMap::from([(var.to_string(), backend.url.clone())]);
    Ponte::start(&imported.folder().join("adapters"), env).await
}

#[test]
fn wsdl_import_across_files_and_a_chameleon_include_is_followed() {
    let imported = import(&own("calc/calc.wsdl"), &["--name", "calc"]);
    insta::assert_snapshot!("own_calc", imported.yaml);
    // The description and what it imports are copied beside the adapter, places kept.
    for f in [
        "calc.wsdl",
        "calc-interface.wsdl",
        "schema/calc.xsd",
        "schema/history.xsd",
    ] {
        assert!(
            imported
                .folder()
                .join("adapters/imported.wsdl")
                .join(f)
                .is_file(),
            "{f} not copied"
        );
    }
}

#[tokio::test]
async fn imported_calc_answers_with_numbers_arrays_and_nils_from_the_schema() {
    let imported = import(&own("calc/calc.wsdl"), &["--name", "calc"]);
    let backend = StandIn::start(|r| {
        if r.body.contains("GetHistory") {
            Reply::xml(200, soap11(
                r#"<GetHistoryResponse xmlns="urn:ponte:test:calc:types"><entry><when>2024-05-01T10:00:00Z</when><result>12.5</result><exact>false</exact><note xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></entry></GetHistoryResponse>"#,
            ))
        } else {
            Reply::xml(200, soap11(r#"<AddResponse xmlns="urn:ponte:test:calc:types"><AddResult>5</AddResult></AddResponse>"#))
        }
    })
    .await;
    let facade = serve(&imported, "CALC_URL", &backend).await;
    let answer = facade
        .post_json("/calc/add", &json!({"a": 2, "b": 3}))
        .await;
    assert_eq!(
        (answer.status, answer.json.clone()),
        (200, json!({"result": 5})),
        "{}",
        answer.text
    );
    let sent = backend.last();
    assert!(
        sent.body.contains(">2</") && sent.body.contains("urn:ponte:test:calc:types"),
        "{}",
        sent.body
    );
    assert_eq!(sent.headers["soapaction"], "\"urn:ponte:test:calc/Add\"");
    let answer = facade.get("/calc/get-history?limit=1").await;
    assert_eq!(
        (answer.status, answer.json.clone()),
        (
            200,
            json!({"entry": [{"when": "2024-05-01T10:00:00Z", "result": 12.5, "exact": false, "note": null}]})
        ),
        "{}",
        answer.text
    );
}

#[test]
fn a_missing_import_names_the_importing_file_line_and_the_location() {
    let wsdl = own("missing/missing.wsdl");
    let (code, _, stderr) = ponte(&["import", "wsdl", wsdl.to_str().unwrap()]);
    assert_eq!(code, 1);
    let missing = wsdl.parent().unwrap().join("types/absent.xsd");
    assert!(
        stderr.starts_with(&format!(
            "{}:6:7: cannot read imported `{}`: ",
            wsdl.display(),
            missing.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-missing-imports"), "{stderr}");
}

#[test]
fn with_allow_missing_imports_a_missing_import_is_a_warning() {
    let wsdl = own("missing/missing.wsdl");
    let (code, _, stderr) = ponte(&[
        "import",
        "wsdl",
        wsdl.to_str().unwrap(),
        "--list",
        "--allow-missing-imports",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(":6:7: warning: cannot read imported"),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_http_get_binding_becomes_an_xml_over_http_route() {
    let imported = import(&own("http/http.wsdl"), &["--port", "WeatherHttpGet"]);
    insta::assert_snapshot!("own_http_get", imported.yaml);
    let backend = StandIn::always(Reply::xml(
        200,
        r#"<?xml version="1.0"?><Forecast xmlns="urn:ponte:test:weather"><city>Lisboa</city><day><date>2024-06-01</date><high>24.5</high><rain>false</rain></day></Forecast>"#,
    ))
    .await;
    let facade = serve(&imported, "WEATHER_URL", &backend).await;
    let answer = facade.get("/weather/get-forecast?city=Lisboa&days=1").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"city": "Lisboa", "day": [{"date": "2024-06-01", "high": 24.5, "rain": false}]})
    );
    let sent = backend.last();
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        ("GET", "/service/GetForecast?city=Lisboa&days=1")
    );
}

#[tokio::test]
async fn an_http_post_binding_sends_a_form() {
    let imported = import(&own("http/http.wsdl"), &["--port", "WeatherHttpPost"]);
    let backend = StandIn::always(Reply::xml(
        200,
        r#"<Forecast xmlns="urn:ponte:test:weather"><city>Porto</city></Forecast>"#,
    ))
    .await;
    let facade = serve(&imported, "WEATHER_URL", &backend).await;
    let answer = facade
        .post_json(
            "/weather/get-forecast",
            &json!({"city": "Porto", "days": "2"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["city"], "Porto");
    assert_eq!(answer.json["day"], json!([]));
    let sent = backend.last();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.body, "city=Porto&days=2");
}

#[tokio::test]
async fn rpc_encoded_soapenc_arrays_become_json_arrays() {
    let imported = import(&own("rpc/rpc-encoded.wsdl"), &[]);
    insta::assert_snapshot!("own_rpc_encoded", imported.yaml);
    let backend = StandIn::always(Reply::xml(200, soap11(
        r#"<ns1:listItemsResponse xmlns:ns1="urn:ponte:test:stock"><listItemsReturn><item><sku>A-1</sku><quantity>3</quantity><price xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></item></listItemsReturn></ns1:listItemsResponse>"#,
    )))
    .await;
    let facade = serve(&imported, "STOCK_SERVICE_URL", &backend).await;
    let answer = facade
        .get("/stock-service/list-items?warehouse=north&limit=5")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"item": [{"sku": "A-1", "quantity": 3, "price": null}]})
    );
    assert!(
        backend.last().body.contains("listItems"),
        "{}",
        backend.last().body
    );
}

#[tokio::test]
async fn recursion_is_cut_xs_any_is_open_and_header_parts_are_named() {
    let imported = import(&own("shapes/shapes.wsdl"), &[]);
    insta::assert_snapshot!("own_shapes", imported.yaml);
    assert!(
        imported
            .yaml
            .contains("SOAP header parts of GetCategory: Auth"),
        "{}",
        imported.yaml
    );
    let backend = StandIn::always(Reply::xml(200, soap12(
        r#"<GetCategoryResponse xmlns="urn:ponte:test:catalog"><category><id>1</id><name>Books</name><child><id>2</id><name>Poetry</name></child></category></GetCategoryResponse>"#,
    )))
    .await;
    let facade = serve(&imported, "CATALOG_URL", &backend).await;
    let answer = facade.get("/catalog/get-category?id=1").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["id"], 1);
    assert_eq!(answer.json["name"], "Books");
    assert_eq!(answer.json["child"][0]["id"], 2, "{}", answer.text);
}

#[test]
fn list_shows_services_ports_bindings_and_operations_with_style_and_use() {
    let (code, stdout, stderr) = ponte(&[
        "import",
        "wsdl",
        own("rpc/rpc-encoded.wsdl").to_str().unwrap(),
        "--list",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "service StockService\n  port Stock -> binding StockSoapBinding (SOAP 1.1) at http://stock.example/axis/services/Stock\nbinding StockSoapBinding (SOAP 1.1), port type Stock: 1 operation(s)\n  listItems [rpc/encoded] soapAction \"\"\n"
    );
}

#[test]
fn generated_fixtures_pass_ponte_test() {
    let dir = tempfile::tempdir().unwrap();
    let adapters = dir.path().join("adapters");
    let fixtures = dir.path().join("fixtures");
    std::fs::create_dir(&adapters).unwrap();
    for (wsdl, extra) in [
        ("calc/calc.wsdl", vec!["--name", "calc"]),
        ("rpc/rpc-encoded.wsdl", vec![]),
        ("http/http.wsdl", vec!["--port", "WeatherHttpGet"]),
    ] {
        let out = adapters.join(format!("{}.yaml", wsdl.split('/').next().unwrap()));
        let mut args = vec![
            "import",
            "wsdl",
            own_str(wsdl),
            "-o",
            out.to_str().unwrap(),
            "--fixtures",
            fixtures.to_str().unwrap(),
        ];
        args.extend(extra);
        let (code, _, stderr) = ponte(&args);
        assert_eq!(code, 0, "{stderr}");
    }
    let (code, stdout, stderr) = ponte(&[
        "test",
        "--adapters",
        adapters.to_str().unwrap(),
        "--fixtures",
        fixtures.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
}

fn own_str(name: &str) -> &'static str {
    Box::leak(own(name).to_str().unwrap().to_string().into_boxed_str())
}

// ---- the corpus (PONTE_CORPUS) ----

fn corpus_wsdl(rel: &str) -> PathBuf {
    corpus().join("wsdl").join(rel)
}

#[test]
#[ignore = "needs PONTE_CORPUS"]
fn every_corpus_wsdl_imports_and_passes_check() {
    for (file, extra) in [
        ("dneonline_calculator.wsdl", vec![]),
        ("oorsprong_countryinfo.wsdl", vec![]),
        ("correios_atendecliente.wsdl", vec![]),
        ("salesforce_partner_v58.wsdl", vec![]),
        ("paypal/PayPalSvc.wsdl", vec![]),
        (
            "onvif/ver10/device/wsdl/devicemgmt.wsdl",
            vec!["--port", "DeviceBinding", "--allow-missing-imports"],
        ),
    ] {
        let imported = import(&corpus_wsdl(file), &extra);
        assert!(
            imported.yaml.contains("routes:"),
            "{file}: {}",
            imported.stderr
        );
    }
}

#[test]
#[ignore = "needs PONTE_CORPUS"]
fn onvif_without_its_remote_schemas_names_what_is_missing() {
    let wsdl = corpus_wsdl("onvif/ver10/device/wsdl/devicemgmt.wsdl");
    let (code, _, stderr) = ponte(&[
        "import",
        "wsdl",
        wsdl.to_str().unwrap(),
        "--port",
        "DeviceBinding",
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("http://docs.oasis-open.org/wsn/b-2.xsd"),
        "{stderr}"
    );
    assert!(stderr.contains("onvif.xsd:15:"), "{stderr}");
}

#[test]
#[ignore = "needs PONTE_CORPUS"]
fn corpus_adapter_snapshots() {
    for (file, name) in [
        ("dneonline_calculator.wsdl", "calculator"),
        ("oorsprong_countryinfo.wsdl", "countryinfo"),
        ("correios_atendecliente.wsdl", "correios"),
    ] {
        let imported = import(&corpus_wsdl(file), &["--name", name]);
        insta::assert_snapshot!(format!("corpus_{name}"), imported.yaml);
    }
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS"]
async fn imported_calculator_adds_against_a_stand_in() {
    let imported = import(
        &corpus_wsdl("dneonline_calculator.wsdl"),
        &["--name", "calculator"],
    );
    let backend = StandIn::always(Reply::xml(
        200,
        soap11(
            r#"<AddResponse xmlns="http://tempuri.org/"><AddResult>5</AddResult></AddResponse>"#,
        ),
    ))
    .await;
    let facade = serve(&imported, "CALCULATOR_URL", &backend).await;
    let answer = facade
        .post_json("/calculator/add", &json!({"int_a": 2, "int_b": 3}))
        .await;
    assert_eq!((answer.status, answer.json), (200, json!({"result": 5})));
    assert_eq!(
        backend.last().headers["soapaction"],
        "\"http://tempuri.org/Add\""
    );
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS"]
async fn imported_countryinfo_lists_countries_as_an_array() {
    let imported = import(
        &corpus_wsdl("oorsprong_countryinfo.wsdl"),
        &["--name", "countryinfo"],
    );
    let backend = StandIn::always(Reply::xml(200, soap11(
        r#"<m:ListOfCountryNamesByNameResponse xmlns:m="http://www.oorsprong.org/websamples.countryinfo"><m:ListOfCountryNamesByNameResult><m:tCountryCodeAndName><m:sISOCode>AX</m:sISOCode><m:sName>Åland Islands</m:sName></m:tCountryCodeAndName></m:ListOfCountryNamesByNameResult></m:ListOfCountryNamesByNameResponse>"#,
    )))
    .await;
    let facade = serve(&imported, "COUNTRYINFO_URL", &backend).await;
    let answer = facade
        .get("/countryinfo/list-of-country-names-by-name")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"t_country_code_and_name": [{"s_iso_code": "AX", "s_name": "Åland Islands"}]})
    );
}

#[tokio::test]
#[ignore = "needs PONTE_CORPUS"]
async fn imported_correios_consulta_cep_reads_a_spyne_shaped_reply() {
    let imported = import(
        &corpus_wsdl("correios_atendecliente.wsdl"),
        &["--name", "correios", "--operations", "consultaCEP"],
    );
    // Shaped like the real service's reply (Java, unqualified children, an absent complement).
    let backend = StandIn::always(Reply::xml(200, soap11(
        r#"<ns2:consultaCEPResponse xmlns:ns2="http://cliente.bean.master.sigep.bsb.correios.com.br/"><return><bairro>Sé</bairro><cep>01001000</cep><cidade>São Paulo</cidade><complemento2>- lado ímpar</complemento2><end>Praça da Sé</end><uf>SP</uf></return></ns2:consultaCEPResponse>"#,
    )))
    .await;
    let facade = serve(&imported, "CORREIOS_URL", &backend).await;
    let answer = facade.get("/correios/consulta-cep?cep=01001000").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["cidade"], "São Paulo");
    assert_eq!(answer.json["end"], "Praça da Sé");
    let sent = backend.last().body;
    assert!(sent.contains("<cep>01001000</cep>"), "{sent}");
}

#[test]
fn a_printed_adapter_saved_in_the_current_folder_passes_check() {
    let dir = tempfile::tempdir().unwrap();
    let wsdl = own("calc/calc.wsdl");
    let (code, stdout, stderr) =
        run_ponte_in(dir.path(), &["import", "wsdl", wsdl.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("# Printed: `")
            && first.ends_with("is relative to the current folder; save the adapter here."),
        "{first}"
    );
    // The copy went to the current folder, where the adapter is then saved.
    let copy = first
        .trim_start_matches("# Printed: `")
        .split('`')
        .next()
        .unwrap();
    assert!(dir.path().join(copy).is_file(), "no copy at {copy}");
    std::fs::write(dir.path().join("calc.yaml"), stdout.as_bytes()).unwrap();
    let (code, _, stderr) = ponte(&["check", "--adapters", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}\n{stdout}");
}

#[test]
fn an_operation_in_another_namespace_sends_all_its_elements_in_it() {
    // GetItem's elements are in urn:catalog (the backend's), GetLevel's in urn:stock/v2 with
    // elementFormDefault="qualified": GetLevel's children must be in urn:stock/v2 too.
    let imported = import(&own("rt-two-namespaces.wsdl"), &[]);
    assert!(
        imported.yaml.contains("    namespace: urn:stock/v2  #"),
        "no route namespace in:\n{}",
        imported.yaml
    );
    let adapters = imported.folder().join("adapters");
    let (code, stdout, stderr) = ponte(&[
        "call",
        "shop.get_level",
        "--adapters",
        adapters.to_str().unwrap(),
        "--input",
        "id=7",
        "--dry-run",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("soapaction: \"urn:stock/v2/GetLevel\""),
        "{stdout}"
    );
    assert!(stdout.contains("xmlns:tns=\"urn:stock/v2\""), "{stdout}");
    assert!(
        stdout.contains("<tns:GetLevel>") && stdout.contains("<tns:Id>7</tns:Id>"),
        "{stdout}"
    );
}
