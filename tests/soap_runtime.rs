//! Replies as real SOAP stacks send them: Axis 1 rpc/encoded replies with multiRef references,
//! numbers beyond 64 bits, `xsi:nil`.

mod common;

use std::collections::HashMap;

use common::{Ponte, Reply, StandIn, soap11};
use serde_json::json;

async fn ponte_with(adapter: &str, backend: &StandIn) -> (Ponte, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), adapter).unwrap();
    let vars = HashMap::from([("URL".to_string(), backend.url.clone())]);
    (Ponte::start(dir.path(), vars).await, dir)
}

const AXIS_ORDERS: &str = r#"
name: orders
backend:
  soap: { url: "${URL}", namespace: "urn:orders", style: rpc, use: USE }
routes:
  order:
    method: GET
    path: /orders/{id}
    input: { id: { in: path, type: integer } }
    operation: getOrder
    request: { id: $id }
    response:
      id: getOrderResponse.getOrderReturn.id
      customer: getOrderResponse.getOrderReturn.customer.name
      lines:
        each: getOrderResponse.getOrderReturn.lines.item
        fields: { sku: sku, qty: qty }
      note: getOrderResponse.getOrderReturn.note
"#;

/// An Axis 1.4 reply: the return value, its customer and each order line are multiRefs beside
/// the response element; the customer refers back to the order (a cycle).
const AXIS_REPLY: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <ns1:getOrderResponse soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns1="urn:orders">
   <getOrderReturn href="#id0"/>
  </ns1:getOrderResponse>
  <multiRef id="id0" soapenc:root="0" soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xsi:type="ns2:Order" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns2="urn:orders">
   <id xsi:type="xsd:long">42</id>
   <customer href="#id1"/>
   <lines xsi:type="soapenc:Array" soapenc:arrayType="ns2:Line[2]">
    <item href="#id2"/>
    <item href="#id3"/>
   </lines>
   <note xsi:type="xsd:string" xsi:nil="true"/>
  </multiRef>
  <multiRef id="id1" soapenc:root="0" soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xsi:type="ns3:Customer" xmlns:ns3="urn:orders" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/">
   <name xsi:type="xsd:string">Ada &amp; Co</name>
   <lastOrder href="#id0"/>
  </multiRef>
  <multiRef id="id2" soapenc:root="0" soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xsi:type="ns4:Line" xmlns:ns4="urn:orders" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/">
   <sku xsi:type="xsd:string">A-1</sku>
   <qty href="#id4"/>
  </multiRef>
  <multiRef id="id3" soapenc:root="0" soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xsi:type="ns5:Line" xmlns:ns5="urn:orders" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/">
   <sku xsi:type="xsd:string">B-2</sku>
   <qty xsi:type="xsd:int">1</qty>
  </multiRef>
  <multiRef id="id4" soapenc:root="0" soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xsi:type="xsd:int" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/">2</multiRef>
 </soapenv:Body>
</soapenv:Envelope>"##;

#[tokio::test]
async fn axis_multiref_replies_map_as_one_tree() {
    let backend = StandIn::always(Reply::xml(200, AXIS_REPLY)).await;
    let (ponte, _dir) = ponte_with(&AXIS_ORDERS.replace("USE", "encoded"), &backend).await;
    let answer = ponte.get("/orders/orders/42").await;
    assert_eq!(
        (answer.status, answer.json.clone()),
        (
            200,
            json!({"id": 42, "customer": "Ada & Co",
                "lines": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}], "note": null})
        ),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn a_multiref_reference_to_nothing_is_a_bad_backend_reply() {
    let reply = AXIS_REPLY.replace(
        r##"<customer href="#id1"/>"##,
        r##"<customer href="#id9"/>"##,
    );
    let backend = StandIn::always(Reply::xml(200, reply)).await;
    let (ponte, _dir) = ponte_with(&AXIS_ORDERS.replace("USE", "encoded"), &backend).await;
    let answer = ponte.get("/orders/orders/42").await;
    answer.assert_problem(502, "bad_backend_reply");
    assert!(answer.detail().contains("`#id9`"), "{}", answer.text);
}

#[tokio::test]
async fn in_a_literal_reply_href_is_data() {
    let backend = StandIn::always(Reply::xml(200, AXIS_REPLY)).await;
    let adapter = AXIS_ORDERS.replace("USE", "literal").replace(
        "getOrderResponse.getOrderReturn.id",
        "getOrderResponse.getOrderReturn.@href",
    );
    let (ponte, _dir) = ponte_with(&adapter, &backend).await;
    let answer = ponte.get("/orders/orders/42").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["id"], json!("#id0"), "{}", answer.text);
}

#[tokio::test]
async fn integers_and_decimals_beyond_64_bits_keep_every_digit() {
    let backend = StandIn::always(Reply::xml(
        200,
        soap11(
            "<R><Big>123456789012345678901234567890</Big><Tiny>-0.000000000000000000001</Tiny>\
             <Long>12345678901234567890.1234567890</Long><Small>2.5</Small><Plus>+0042</Plus>\
             <BigList>1</BigList><BigList>99999999999999999999</BigList></R>",
        ),
    ))
    .await;
    let adapter = r#"
name: num
backend:
  soap: { url: "${URL}", namespace: "urn:n" }
routes:
  n:
    method: GET
    path: /n
    operation: N
    response:
      big: { from: R.Big, type: integer }
      tiny: { from: R.Tiny, type: number }
      long: { from: R.Long, type: number }
      small: { from: R.Small, type: number }
      plus: { from: R.Plus, type: integer }
      list: { from: "R.BigList[*]", type: integer }
"#;
    let (ponte, _dir) = ponte_with(adapter, &backend).await;
    let answer = ponte.get("/num/n").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.text,
        r#"{"big":123456789012345678901234567890,"tiny":-0.000000000000000000001,"long":12345678901234567890.1234567890,"small":2.5,"plus":42,"list":[1,99999999999999999999]}"#
    );
}

#[tokio::test]
async fn xsi_nil_is_null_in_every_xml_reply() {
    let backend = StandIn::always(Reply::xml(
        200,
        soap11(
            r#"<R><Name xsi:nil="true"/><Count xsi:nil="1"></Count><Obj xsi:nil="true" a="x"/><Kept>v</Kept></R>"#,
        ),
    ))
    .await;
    let adapter = r#"
name: nils
backend:
  soap: { url: "${URL}", namespace: "urn:n" }
routes:
  n:
    method: GET
    path: /n
    operation: N
    response:
      name: R.Name
      count: { from: R.Count, type: integer }
      obj: R.Obj
      whole: R
"#;
    let (ponte, _dir) = ponte_with(adapter, &backend).await;
    let answer = ponte.get("/nils/n").await;
    assert_eq!(
        (answer.status, answer.json.clone()),
        (
            200,
            json!({"name": null, "count": null, "obj": null,
                "whole": {"Name": null, "Count": null, "Obj": null, "Kept": "v"}})
        ),
        "{}",
        answer.text
    );
}
