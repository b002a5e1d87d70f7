//! Generated inputs shared by the micro benchmarks (`benches/translate.rs`) and the load
//! benchmark (`bench/load`, which includes this file by path): SOAP replies with arrays of
//! complex types, the adapter that maps them, and a catalogue of adapters for load timing.

// Each user of this module takes the parts it needs.
#![allow(dead_code)]

use std::fmt::Write as _;

pub mod work;

/// The namespace of the generated service (shaped like the public CountryInfoService).
pub const NS: &str = "http://www.oorsprong.org/websamples.countryinfo";

const CONTINENTS: [&str; 6] = ["AF", "AN", "AS", "EU", "OC", "AM"];
const LANGUAGES: [(&str, &str); 5] = [
    ("en", "English"),
    ("fr", "French"),
    ("es", "Spanish"),
    ("pt", "Portuguese"),
    ("ar", "Arabic"),
];

/// A SOAP 1.1 reply listing `n` countries, each with seven child fields, an attribute and a nested
/// list of one to three languages, indented the way .NET and Java stacks usually write it.
pub fn countries_reply(n: usize) -> String {
    let mut x = String::with_capacity(400 + n * 900);
    x.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    x.push('\n');
    x.push_str(r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">"#);
    x.push_str("\n  <soap:Body>\n");
    let _ = writeln!(x, r#"    <m:ListOfCountriesResponse xmlns:m="{NS}">"#);
    x.push_str("      <m:ListOfCountriesResult>\n");
    for i in 0..n {
        country(&mut x, i);
    }
    x.push_str("      </m:ListOfCountriesResult>\n");
    x.push_str("    </m:ListOfCountriesResponse>\n");
    x.push_str("  </soap:Body>\n</soap:Envelope>\n");
    x
}

fn country(x: &mut String, i: usize) {
    let continent = CONTINENTS[i % CONTINENTS.len()];
    let _ = write!(
        x,
        "        <m:tCountryInfo id=\"{i}\">\n\
         \x20         <m:sISOCode>C{i:04}</m:sISOCode>\n\
         \x20         <m:sName>Country {i} &amp; Islands</m:sName>\n\
         \x20         <m:sCapitalCity>Capital {i}</m:sCapitalCity>\n\
         \x20         <m:sPhoneCode>{phone}</m:sPhoneCode>\n\
         \x20         <m:sContinentCode>{continent}</m:sContinentCode>\n\
         \x20         <m:sCurrencyISOCode>X{c:02}</m:sCurrencyISOCode>\n\
         \x20         <m:sCountryFlag>http://www.oorsprong.org/WebSamples.CountryInfo/Flags/C{i:04}.jpg</m:sCountryFlag>\n\
         \x20         <m:Languages>\n",
        phone = 100 + i % 900,
        c = i % 100,
    );
    for l in 0..=(i % 3) {
        let (code, name) = LANGUAGES[(i + l) % LANGUAGES.len()];
        let _ = write!(
            x,
            "            <m:tLanguage>\n\
             \x20             <m:sISOCode>{code}</m:sISOCode>\n\
             \x20             <m:sName>{name}</m:sName>\n\
             \x20           </m:tLanguage>\n"
        );
    }
    x.push_str("          </m:Languages>\n        </m:tCountryInfo>\n");
}

/// The reply whose size is closest to `target` bytes (at least one country).
pub fn reply_of_size(target: usize) -> String {
    let one = countries_reply(1).len();
    let two = countries_reply(2).len();
    let per = (two - one).max(1);
    let mut n = (target.saturating_sub(one) / per + 1).max(1);
    // The per-country size varies a little (languages, digits): settle on the closest count.
    loop {
        let here = countries_reply(n).len().abs_diff(target);
        if n > 1 && countries_reply(n - 1).len().abs_diff(target) < here {
            n -= 1;
        } else if countries_reply(n + 1).len().abs_diff(target) < here {
            n += 1;
        } else {
            return countries_reply(n);
        }
    }
}

/// The adapter the benchmarks run: a POST route taking JSON inputs, building a document/literal
/// envelope, and mapping the reply's country list (with its nested language list) via
/// `each`/`fields` (`countries`, which reads everything), and a route that reads one field per
/// country (`codes`). The backend URL comes from `${<url_var>}`.
pub fn bench_adapter(name: &str, url_var: &str) -> String {
    format!(
        r#"name: {name}
backend:
  soap:
    url: ${{{url_var}:-http://127.0.0.1:9/countries}}
    version: "1.1"
    namespace: {NS}
  timeout: 5s
routes:
  countries:
    method: POST
    path: /countries
    input:
      continent: {{ in: body, type: string, pattern: "[A-Z]{{2}}" }}
      limit: {{ in: body, type: integer, required: false, min: 1, max: 100000 }}
      name: {{ in: body, type: string, required: false, max_length: 200 }}
    operation: ListOfCountries
    request:
      ListOfCountries:
        sContinentCode: $continent
        iLimit: $limit
        sNameFilter: $name
    response:
      countries:
        each: ListOfCountriesResponse.ListOfCountriesResult.tCountryInfo
        fields:
          id: {{ from: "@id", type: integer }}
          code: sISOCode
          name: sName
          capital: sCapitalCity
          phone_code: {{ from: sPhoneCode, type: integer }}
          continent: sContinentCode
          currency: sCurrencyISOCode
          flag_url: sCountryFlag
          languages:
            each: Languages.tLanguage
            fields: {{ code: sISOCode, name: sName }}
    faults:
      - {{ code: Client, status: 422, error: invalid_request }}
  codes:
    method: POST
    path: /codes
    input:
      continent: {{ in: body, type: string, pattern: "[A-Z]{{2}}" }}
    operation: ListOfCountries
    request:
      ListOfCountries:
        sContinentCode: $continent
    # Reads a small part of the reply: one field of each country; the rest is skipped unread.
    response:
      codes:
        each: ListOfCountriesResponse.ListOfCountriesResult.tCountryInfo
        fields: {{ code: sISOCode }}
"#
    )
}

/// The JSON body a caller sends to the bench route.
pub const BENCH_REQUEST_JSON: &str =
    r#"{"continent":"EU","limit":250,"name":"Saint Kitts & Nevis <islands>"}"#;

/// Adapter number `i` of a catalogue: a realistic mix of four routes (path, query and body inputs
/// with checks, nested request trees, each/fields, typed leaves, concat, a JMESPath expression,
/// fault rules with regular expressions), every file distinct.
pub fn catalogue_adapter(i: usize) -> String {
    format!(
        r#"# generated adapter {i}
name: svc{i:03}
description: Generated service number {i}
backend:
  soap:
    url: ${{SVC{i:03}_URL:-http://127.0.0.1:9/svc{i:03}}}
    version: "{version}"
    namespace: urn:example:svc{i:03}
  timeout: 5s
  retry: {{ attempts: 2, backoff: 100ms }}
routes:
  list:
    method: GET
    path: /items
    input:
      page: {{ in: query, type: integer, required: false, default: 1, min: 1 }}
      kind: {{ in: query, type: string, required: false, enum: [a, b, c] }}
    operation: ListItems{i}
    request:
      ListItems{i}: {{ page: $page, kind: $kind }}
    response:
      items:
        each: ListItems{i}Response.Items.Item
        fields:
          id: {{ from: "@id", type: integer }}
          name: Name
          price: {{ from: Price, type: number }}
          tags: Tags.Tag[*]
      total: {{ from: ListItems{i}Response.Total, type: integer, default: 0 }}
  get:
    method: GET
    path: /items/{{id}}
    input:
      id: {{ in: path, type: integer, min: 1 }}
    operation: GetItem{i}
    request:
      GetItem{i}: {{ id: $id }}
    response:
      name: GetItem{i}Response.Item.Name
      label: {{ concat: [GetItem{i}Response.Item.Code, " - ", GetItem{i}Response.Item.Name] }}
      created: {{ from: GetItem{i}Response.Item.Created, type: datetime }}
      count: {{ expr: "length(GetItem{i}Response.Item.Parts.Part)" }}
    not_found: GetItem{i}Response.Item
    faults:
      - {{ code: Client, message: "(?i)not found|unknown id", status: 404, error: no_such_item }}
      - {{ code: Server, message: "(?i)maintenance", status: 503, error: maintenance }}
  create:
    method: POST
    path: /items
    input:
      name: {{ in: body, type: string, max_length: 120, pattern: "[A-Za-z0-9 ]+" }}
      price: {{ in: body, name: item.price, type: number, min: 0 }}
      owner: {{ in: header, name: X-Owner, type: string, required: false }}
    operation: CreateItem{i}
    request:
      CreateItem{i}:
        item:
          "@currency": EUR
          name: $name
          price: $price
        owner: $owner
    response:
      id: {{ from: CreateItem{i}Response.Id, type: integer }}
      ok: {{ const: true }}
    faults:
      - {{ code: Client, message: "(?i)duplicate", status: 409, error: duplicate }}
  search:
    method: GET
    path: /search
    input:
      q: {{ in: query, type: string, max_length: 64 }}
      since: {{ in: query, type: date, required: false }}
    operation: Search{i}
    request:
      Search{i}: {{ query: $q, since: $since }}
    response:
      hits: Search{i}Response.Hits.Hit[*].Name
      first: Search{i}Response.Hits.Hit[0].Name
"#,
        version = if i.is_multiple_of(2) { "1.1" } else { "1.2" },
    )
}
