//! `backend.soap.wsdl`: a hand-written adapter that keeps the service's WSDL gets schema-true
//! replies (arrays from maxOccurs, JSON types from XSD types, nils), and `ponte check` reports
//! reply paths that the operation's reply cannot have.

mod common;

use std::collections::HashMap;

use common::{Ponte, Reply, StandIn, repo_path, soap11};
use serde_json::json;

const SHOP: &str = r#"
name: shop
backend:
  soap:
    url: "${URL}"
    namespace: "urn:catalog"
    wsdl: rt-two-namespaces.wsdl
routes:
  item:
    method: GET
    path: /items/{id}
    input: { id: { in: path } }
    operation: GetItem
    request: { GetItem: { Id: $id } }
    response:
      items:
        each: GetItemResponse.Items.Item
        fields: { name: Name, price: Price, in_stock: InStock, tags: Tag, rank: "@rank" }
      total: GetItemResponse.Total
      note: GetItemResponse.Note
      whole: GetItemResponse.Items
  level:
    method: GET
    path: /stock/{id}
    input: { id: { in: path } }
    namespace: "urn:stock/v2"
    operation: GetLevel
    request: { GetLevel: { Id: $id } }
    response: { level: GetLevelResponse.Level, serial: GetLevelResponse.Serial, bins: GetLevelResponse.Bin }
"#;

fn adapter_dir(adapter: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), adapter).unwrap();
    std::fs::copy(
        repo_path("tests/wsdl/rt-two-namespaces.wsdl"),
        dir.path().join("rt-two-namespaces.wsdl"),
    )
    .unwrap();
    dir
}

fn shop_service(got: &common::Received) -> Reply {
    let body = if got.body.contains("GetLevel") {
        r#"<s:GetLevelResponse xmlns:s="urn:stock/v2"><s:Level>7</s:Level><s:Serial>123456789012345678901234567890</s:Serial><s:Bin>A1</s:Bin></s:GetLevelResponse>"#
    } else {
        r#"<c:GetItemResponse xmlns:c="urn:catalog"><c:Items><c:Item code="B1" rank="3"><c:Name>bolt</c:Name><c:Price>2.50</c:Price><c:InStock>true</c:InStock><c:Tag>m6</c:Tag></c:Item></c:Items><c:Total>1</c:Total><c:Note xsi:nil="true"/></c:GetItemResponse>"#
    };
    Reply::xml(200, soap11(body))
}

async fn serve(adapter: &str, backend: &StandIn) -> (Ponte, tempfile::TempDir) {
    let dir = adapter_dir(adapter);
    let vars = HashMap::from([("URL".to_string(), backend.url.clone())]);
    (Ponte::start(dir.path(), vars).await, dir)
}

#[tokio::test]
async fn a_wsdl_makes_replies_schema_true() {
    let backend = StandIn::start(shop_service).await;
    let (ponte, _dir) = serve(SHOP, &backend).await;
    let item = ponte.get("/shop/items/9").await;
    assert_eq!(
        (item.status, item.json.clone()),
        (
            200,
            json!({
                "items": [{"name": "bolt", "price": 2.5, "in_stock": true, "tags": ["m6"], "rank": 3}],
                "total": 1,
                "note": null,
                "whole": {"Item": [{"@code": "B1", "@rank": "3", "Name": "bolt", "Price": "2.50",
                    "InStock": "true", "Tag": ["m6"]}]}
            })
        ),
        "{}",
        item.text
    );
    let level = ponte.get("/shop/stock/9").await;
    assert_eq!(level.status, 200, "{}", level.text);
    assert_eq!(
        level.text,
        r#"{"level":7,"serial":123456789012345678901234567890,"bins":["A1"]}"#
    );
}

#[tokio::test]
async fn without_a_wsdl_replies_read_as_before() {
    let backend = StandIn::start(shop_service).await;
    let (ponte, _dir) = serve(
        &SHOP.replace("    wsdl: rt-two-namespaces.wsdl\n", ""),
        &backend,
    )
    .await;
    let item = ponte.get("/shop/items/9").await;
    assert_eq!(
        (item.status, item.json.clone()),
        (
            200,
            json!({
                "items": [{"name": "bolt", "price": "2.50", "in_stock": "true", "tags": "m6", "rank": "3"}],
                "total": "1",
                "note": null,
                // `each` makes Item an array; Tag is one only by the schema.
                "whole": {"Item": [{"@code": "B1", "@rank": "3", "Name": "bolt", "Price": "2.50",
                    "InStock": "true", "Tag": "m6"}]}
            })
        ),
        "{}",
        item.text
    );
}

fn check(adapter: &str) -> (i32, String) {
    common::check_adapters(adapter_dir(adapter).path())
}

#[test]
fn a_misspelt_reply_path_is_a_check_error_with_the_suggestion() {
    let (code, stderr) = check(SHOP);
    assert_eq!(code, 0, "the adapter as written is right: {stderr}");
    let (code, stderr) = check(&SHOP.replace(
        "total: GetItemResponse.Total",
        "total: GetItemResponse.Totl",
    ));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("a.yaml:19:14: response path `GetItemResponse.Totl`: the reply of `GetItem` has no `Totl` in `GetItemResponse` (did you mean `GetItemResponse.Total`?)"),
        "{stderr}"
    );
    // Inside `each`, paths are relative to the element and named in full.
    let (code, stderr) = check(&SHOP.replace("in_stock: InStock", "in_stock: InStok"));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("has no `InStok` in `GetItemResponse.Items.Item` (did you mean `GetItemResponse.Items.Item.InStock`?)"),
        "{stderr}"
    );
    let (code, stderr) = check(&SHOP.replace("operation: GetLevel", "operation: GetLevl"));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the WSDL has no SOAP operation `GetLevl` (did you mean `GetLevel`?)"),
        "{stderr}"
    );
    let (code, stderr) = check(&SHOP.replace("wsdl: rt-two-namespaces.wsdl", "wsdl: nowhere.wsdl"));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the WSDL `nowhere.wsdl` does not load"),
        "{stderr}"
    );
}
