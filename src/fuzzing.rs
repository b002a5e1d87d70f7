//! Entry points for the cargo-fuzz targets in `fuzz/` (not part of ponte's API). Each takes raw
//! bytes from the fuzzer and runs one stage the way a request or a load would; the only outcome
//! that matters is that none panics, hangs or grows without bound.

use std::collections::HashMap;
use std::sync::LazyLock;

use bytes::Bytes;

use crate::kind::BackendReply;
use crate::mapping::input::{self, CallParts};
use crate::plan::{AdapterPlan, LoadOptions, RoutePlan, compile_adapter};

/// A SOAP adapter whose route reads a reply like most do: faults, paths, lists, attributes.
const SOAP_ADAPTER: &str = r#"
name: fuzz
backend:
  soap: { url: "http://127.0.0.1:9/svc", namespace: "urn:fuzz" }
routes:
  read:
    method: POST
    path: /read
    input:
      s: { in: body, type: string, required: false, max_length: 50, pattern: "^[a-z]*$" }
      i: { in: query, type: integer, required: false, min: -5, max: 500 }
      n: { in: query, type: number, required: false }
      b: { in: query, type: boolean, required: false }
      d: { in: body, name: when.date, type: date, required: false }
      t: { in: header, name: X-Time, type: datetime, required: false }
      j: { in: body, type: json, required: false }
      e: { in: query, type: string, enum: [a, b], default: a }
    operation: Read
    request: { Read: { s: $s, i: $i, n: $n, b: $b, d: $d, t: $t, j: $j, e: $e } }
    response:
      id: { from: "R.Item[0].@id", type: integer }
      names: R.Item[*].Name
      items: { each: R.Item, fields: { name: Name, price: { from: Price, type: number } } }
      joined: { concat: [R.A, "-", R.B] }
      picked: { expr: "R.Item[?Name == 'x'].Price | [0]" }
      inner: { from: R.Doc, parse: xml, fields: { v: X.V } }
      when: { from: R.When, type: datetime }
      flag: { from: R.Flag, type: boolean }
    not_found: R.Missing
    faults:
      - { code: Client, message: "(?i)not found", status: 404, error: gone }
"#;

struct Compiled {
    adapter: AdapterPlan,
}

static COMPILED: LazyLock<Option<Compiled>> = LazyLock::new(|| {
    let (model, _) = crate::config::decode(SOAP_ADAPTER, &|_| None, false);
    let path = std::path::Path::new("fuzz.yaml");
    let (adapter, _) = compile_adapter(&model?, path, &LoadOptions::default()).ok()?;
    Some(Compiled { adapter })
});

fn route() -> Option<&'static RoutePlan> {
    COMPILED.as_ref()?.adapter.routes.first()
}

/// Adapter loading: YAML reading, environment expansion, decoding and compiling.
pub fn load_adapter(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = |name: &str| name.len().is_multiple_of(2).then(|| format!("v-{name}"));
    let (model, _) = crate::config::decode(text, &env, false);
    if let Some(model) = model {
        let _ = compile_adapter(
            &model,
            std::path::Path::new("fuzz.yaml"),
            &LoadOptions::default(),
        );
    }
}

/// Reply reading: charset decoding, XML reading and fault recognition of a SOAP reply. The first
/// byte picks the status and content type, the rest is the body.
pub fn read_reply(data: &[u8]) {
    let Some(route) = route() else { return };
    let Some((first, body)) = data.split_first() else {
        return;
    };
    let (status, content_type) = match first % 4 {
        0 => (200, Some("text/xml; charset=utf-8")),
        1 => (500, Some("text/xml")),
        2 => (200, Some("text/xml; charset=iso-8859-1")),
        _ => (200, None),
    };
    let reply = BackendReply {
        status,
        content_type: content_type.map(str::to_string),
        body: Bytes::copy_from_slice(body),
        retry_after: None,
    };
    let _ = route.call.interpret(&route.reading, &reply);
}

/// Mapping evaluation: a well-formed SOAP envelope around fuzzed content, so that the mapping
/// (paths, lists, `each`, `concat`, JMESPath, embedded XML, coercions) sees arbitrary trees.
pub fn evaluate_mapping(data: &[u8]) {
    let Some(route) = route() else { return };
    let inner = String::from_utf8_lossy(data);
    let body = format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><R>{inner}</R></s:Body></s:Envelope>"#
    );
    let reply = BackendReply {
        status: 200,
        content_type: Some("text/xml; charset=utf-8".into()),
        body: Bytes::from(body),
        retry_after: None,
    };
    let _ = route.call.interpret(&route.reading, &reply);
}

/// Caller-input decoding: the bytes up to the first newline are a query string, the next line a
/// header value, the rest a JSON body; every typed input of the route is decoded from them.
pub fn decode_caller_input(data: &[u8]) {
    let Some(route) = route() else { return };
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let query = parts.next().unwrap_or_default();
    let header = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let query: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut headers = axum::http::HeaderMap::new();
    if let Ok(value) = axum::http::HeaderValue::from_str(header) {
        headers.insert("x-time", value);
    }
    let body: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let params = input::decode_params(vec![("p".into(), header.to_string())]);
    let path: HashMap<&str, &str> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let call = CallParts {
        path,
        query,
        headers: Some(&headers),
        body: body.as_ref(),
    };
    if let Ok(values) = input::decode(&route.inputs, &call) {
        let _ = route.call.expectation(&values);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fuzzed_adapter_compiles() {
        let (model, errors) = crate::config::decode(super::SOAP_ADAPTER, &|_| None, false);
        assert!(errors.is_empty(), "{errors:?}");
        let compiled = crate::plan::compile_adapter(
            &model.unwrap(),
            std::path::Path::new("f.yaml"),
            &Default::default(),
        );
        assert!(compiled.is_ok(), "{:?}", compiled.err());
        assert!(super::route().is_some(), "the fuzz adapter must compile");
    }
}
