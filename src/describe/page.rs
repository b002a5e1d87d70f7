//! The landing and docs page (`/`, `/_ponte/docs`): every adapter and route with its
//! description, inputs, an example request and answer, and a "try it" form. Rendered once per
//! load as one self-contained HTML file: the CSS and JS are embedded in the binary, nothing is
//! fetched from elsewhere, so it works offline. Everything from the adapters is escaped.

use std::fmt::Write as _;

use serde_json::Value;

use super::{
    AdapterDescription, Description, Example, InputDescription, RouteDescription, Security,
};

const CSS: &str = include_str!("assets/docs.css");
const JS: &str = include_str!("assets/docs.js");

/// Escapes text for HTML content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn render(description: &Description) -> String {
    let routes: usize = description.adapters.iter().map(|a| a.routes.len()).sum();
    let mut html = String::with_capacity(16 * 1024);
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>ponte: facades</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>{CSS}</style>\n</head>\n<body>\n\
         <header><h1>ponte</h1><p>{} adapter(s), {routes} route(s). Machine-readable: \
         <a href=\"/_ponte/openapi.json\">OpenAPI 3.1</a>.</p></header>\n",
        description.adapters.len()
    );
    html.push_str("<nav aria-label=\"routes\"><ul>\n");
    for adapter in &description.adapters {
        let _ = write!(
            html,
            "<li><a href=\"#a-{0}\">{0}</a><ul>",
            escape(&adapter.name)
        );
        for route in &adapter.routes {
            let _ = write!(
                html,
                "<li><a href=\"#{}\">{}</a></li>",
                escape(&anchor(route)),
                escape(&route.name)
            );
        }
        html.push_str("</ul></li>\n");
    }
    html.push_str("</ul></nav>\n<main>\n");
    if description.adapters.is_empty() {
        html.push_str("<p>No adapter is loaded.</p>\n");
    }
    for adapter in &description.adapters {
        adapter_section(&mut html, adapter);
    }
    html.push_str("</main>\n");
    // Engineer observe: the call log's part of the page goes here.
    html.push_str("<section id=\"calls\" hidden></section>\n");
    let _ = write!(html, "<script>{JS}</script>\n</body>\n</html>\n");
    html
}

fn anchor(route: &RouteDescription) -> String {
    format!("r-{}-{}", route.adapter, route.name)
}

fn adapter_section(html: &mut String, adapter: &AdapterDescription) {
    let _ = write!(
        html,
        "<section class=\"adapter\" id=\"a-{0}\">\n<h2>{0} <span class=\"kind\">{1}</span></h2>\n",
        escape(&adapter.name),
        adapter.kind
    );
    if let Some(d) = &adapter.description {
        let _ = writeln!(html, "<p class=\"description\">{}</p>", escape(d));
    }
    for route in &adapter.routes {
        route_article(html, route);
    }
    html.push_str("</section>\n");
}

fn route_article(html: &mut String, route: &RouteDescription) {
    let _ = write!(
        html,
        "<article class=\"route\" id=\"{}\" data-route=\"{}.{}\">\n\
         <h3><span class=\"method\">{}</span> <code>{}</code> <span class=\"name\">{}.{}</span></h3>\n",
        escape(&anchor(route)),
        escape(&route.adapter),
        escape(&route.name),
        route.method,
        escape(&route.path),
        escape(&route.adapter),
        escape(&route.name),
    );
    if let Some(d) = &route.description {
        let _ = writeln!(html, "<p class=\"description\">{}</p>", escape(d));
    }
    if let Some(security) = &route.security {
        let _ = writeln!(
            html,
            "<p class=\"auth\">Needs a credential: {}.</p>",
            escape(&security_text(security))
        );
    }
    inputs_table(html, &route.inputs);
    if let Some(example) = route
        .examples
        .iter()
        .find(|e| (200..300).contains(&e.status))
    {
        example_block(html, example);
    }
    try_form(html, route);
    html.push_str("</article>\n");
}

fn security_text(security: &Security) -> String {
    match security {
        Security::ApiKey { location, name } => format!("an API key in the {location} `{name}`"),
        Security::Hmac { header } => {
            format!("an HMAC signature of the body in the header `{header}`")
        }
        Security::Jwt => "a JWT in `Authorization: Bearer`".to_string(),
    }
}

/// The constraints of an input's schema in words: `integer, -5 to 5`, `one of a, b`.
fn constraints(schema: &Value) -> String {
    let mut parts = Vec::new();
    let ty = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("any JSON");
    let format = schema.get("format").and_then(Value::as_str);
    parts.push(format.map_or_else(|| ty.to_string(), |f| format!("{ty} ({f})")));
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let list: Vec<String> = values.iter().map(Value::to_string).collect();
        parts.push(format!("one of {}", list.join(", ")));
    }
    match (schema.get("minimum"), schema.get("maximum")) {
        (Some(min), Some(max)) => parts.push(format!("{min} to {max}")),
        (Some(min), None) => parts.push(format!("at least {min}")),
        (None, Some(max)) => parts.push(format!("at most {max}")),
        _ => {}
    }
    if let Some(n) = schema.get("maxLength") {
        parts.push(format!("at most {n} characters"));
    }
    if let Some(p) = schema.get("pattern").and_then(Value::as_str) {
        parts.push(format!("matches {p}"));
    }
    if let Some(d) = schema.get("default") {
        parts.push(format!("default {d}"));
    }
    parts.join(", ")
}

fn inputs_table(html: &mut String, inputs: &[InputDescription]) {
    if inputs.is_empty() {
        html.push_str("<p class=\"inputs none\">No inputs.</p>\n");
        return;
    }
    html.push_str(
        "<table class=\"inputs\"><thead><tr><th>input</th><th>in</th><th>required</th>\
         <th>type</th><th>description</th></tr></thead><tbody>\n",
    );
    for i in inputs {
        let _ = writeln!(
            html,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&i.name),
            i.location,
            if i.required { "yes" } else { "no" },
            escape(&constraints(&i.schema)),
            escape(i.description.as_deref().unwrap_or_default()),
        );
    }
    html.push_str("</tbody></table>\n");
}

fn example_block(html: &mut String, example: &Example) {
    let _ = write!(
        html,
        "<details class=\"example\"><summary>Example: {}</summary>\n<pre>{} {}",
        escape(&example.name),
        escape(&example.method),
        escape(&example.path)
    );
    if let Some(body) = &example.body {
        let _ = write!(html, "\n{}", escape(&pretty(body)));
    }
    let _ = write!(html, "</pre>\n<p>answers {}</p>", example.status);
    if let Some(answer) = &example.answer {
        let _ = write!(html, "<pre>{}</pre>", escape(&pretty(answer)));
    }
    html.push_str("</details>\n");
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A form the page's script sends with `fetch`; fields start with the first example's values.
fn try_form(html: &mut String, route: &RouteDescription) {
    let example = route
        .examples
        .iter()
        .find(|e| (200..300).contains(&e.status));
    let _ = writeln!(
        html,
        "<form class=\"try\" data-method=\"{}\" data-path=\"{}\"><fieldset><legend>Try it</legend>",
        route.method,
        escape(&route.path)
    );
    for input in &route.inputs {
        let ty = input
            .schema
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("json");
        let value = example
            .and_then(|e| e.inputs.get(&input.name))
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default();
        let _ = writeln!(
            html,
            "<label><span>{0}</span><input name=\"{0}\" data-in=\"{1}\" data-type=\"{2}\" value=\"{3}\"{4}></label>",
            escape(&input.name),
            input.location,
            ty,
            escape(&value),
            if input.required { " required" } else { "" }
        );
    }
    if let Some(security) = &route.security {
        let (place, name) = match security {
            Security::ApiKey { location, name } => (*location, name.as_str()),
            Security::Hmac { header } => ("header", header.as_str()),
            Security::Jwt => ("bearer", "Authorization"),
        };
        let _ = writeln!(
            html,
            "<label><span>credential ({})</span><input name=\"{}\" data-in=\"{}\" data-credential=\"1\" autocomplete=\"off\"></label>",
            escape(name),
            escape(name),
            place
        );
    }
    html.push_str(
        "<button type=\"submit\">Send</button></fieldset>\n\
         <div class=\"result\" hidden><p class=\"status\"></p><pre class=\"reply\"></pre></div>\n</form>\n",
    );
}
