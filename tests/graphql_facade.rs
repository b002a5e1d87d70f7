//! GraphQL facades against a real async-graphql server on 127.0.0.1.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::{
    Context, EmptySubscription, Error, ErrorExtensions, ID, InputObject, Object, Result,
    SimpleObject,
};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use common::{Ponte, repo_path};
use serde_json::{Value, json};

#[derive(SimpleObject, Clone)]
struct Company {
    id: ID,
    name: String,
}

#[derive(Clone)]
struct Contact {
    id: &'static str,
    first: &'static str,
    last: &'static str,
    email: Option<&'static str>,
    company: Option<&'static str>,
    tags: Vec<&'static str>,
}

#[Object]
impl Contact {
    async fn id(&self) -> ID {
        ID(self.id.into())
    }
    async fn first_name(&self) -> &str {
        self.first
    }
    async fn last_name(&self) -> &str {
        self.last
    }
    async fn email(&self) -> Option<&str> {
        self.email
    }
    /// Contact 3's phone lives in a system that is down: a field error with partial data.
    async fn phone(&self) -> Result<Option<String>> {
        match self.id {
            "3" => Err(Error::new("phone directory unavailable")
                .extend_with(|_, e| e.set("code", "UNAVAILABLE"))),
            _ => Ok(Some("+55 11 99999-0000".into())),
        }
    }
    async fn company(&self) -> Option<Company> {
        self.company.map(|n| Company {
            id: ID("c1".into()),
            name: n.into(),
        })
    }
    async fn tags(&self) -> Vec<&str> {
        self.tags.clone()
    }
    async fn created_at(&self) -> &str {
        "2026-11-01T10:00:00Z"
    }
}

#[derive(InputObject)]
struct ContactFilter {
    tag: Option<String>,
    company: Option<String>,
    email_domain: Option<String>,
}

#[derive(InputObject)]
struct ContactInput {
    first_name: String,
    last_name: String,
    email: Option<String>,
    phone: Option<String>,
    company: Option<String>,
}

#[derive(SimpleObject)]
struct ContactPage {
    total: i32,
    items: Vec<Contact>,
}

fn people() -> Vec<Contact> {
    vec![
        Contact {
            id: "1",
            first: "Maria",
            last: "Silva",
            email: Some("maria@acme.com.br"),
            company: Some("Acme"),
            tags: vec!["vip"],
        },
        Contact {
            id: "2",
            first: "João",
            last: "Souza",
            email: None,
            company: None,
            tags: vec![],
        },
        Contact {
            id: "3",
            first: "Ana",
            last: "Lima",
            email: Some("ana@lima.dev"),
            company: Some("Lima Dev"),
            tags: vec!["vip", "new"],
        },
    ]
}

struct Query;

#[Object]
impl Query {
    async fn contact(&self, id: ID) -> Result<Option<Contact>> {
        if id.as_str() == "gone" {
            return Err(Error::new("contact 'gone' was deleted")
                .extend_with(|_, e| e.set("code", "NOT_FOUND")));
        }
        Ok(people().into_iter().find(|c| c.id == id.as_str()))
    }
    async fn contacts(
        &self,
        filter: Option<ContactFilter>,
        #[graphql(default = 10)] first: i32,
    ) -> ContactPage {
        let f = filter.unwrap_or(ContactFilter {
            tag: None,
            company: None,
            email_domain: None,
        });
        let items: Vec<Contact> = people()
            .into_iter()
            .filter(|c| f.tag.as_ref().is_none_or(|t| c.tags.contains(&t.as_str())))
            .filter(|c| {
                f.company
                    .as_ref()
                    .is_none_or(|n| c.company == Some(n.as_str()))
            })
            .filter(|c| {
                f.email_domain
                    .as_ref()
                    .is_none_or(|d| c.email.is_some_and(|e| e.ends_with(&format!("@{d}"))))
            })
            .collect();
        ContactPage {
            total: items.len() as i32,
            items: items.into_iter().take(first as usize).collect(),
        }
    }
}

struct Mutation;

#[Object]
impl Mutation {
    async fn create_contact(&self, ctx: &Context<'_>, input: ContactInput) -> Result<Contact> {
        if input.first_name.trim().is_empty() {
            return Err(Error::new("firstName must not be empty")
                .extend_with(|_, e| e.set("code", "BAD_USER_INPUT")));
        }
        let seen = ctx.data::<Arc<Mutex<Vec<Value>>>>()?;
        seen.lock().unwrap().push(json!({"first": input.first_name, "email": input.email, "phone": input.phone, "company": input.company}));
        Ok(Contact {
            id: "99",
            first: Box::leak(input.first_name.into_boxed_str()),
            last: Box::leak(input.last_name.into_boxed_str()),
            email: input.email.map(|e| &*Box::leak(e.into_boxed_str())),
            company: None,
            tags: vec![],
        })
    }
}

type CrmSchema = async_graphql::Schema<Query, Mutation, EmptySubscription>;

/// How the server misbehaves, when it does.
#[derive(Clone, Default)]
struct Behaviour {
    status: Option<u16>,
    delay: Duration,
    raw: Option<(&'static str, &'static str)>,
}

struct Crm {
    url: String,
    requests: Arc<Mutex<Vec<Value>>>,
    created: Arc<Mutex<Vec<Value>>>,
}

async fn crm(behaviour: Behaviour) -> Crm {
    let created = Arc::new(Mutex::new(Vec::new()));
    let schema: CrmSchema = async_graphql::Schema::build(Query, Mutation, EmptySubscription)
        .data(created.clone())
        .finish();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let schema = schema.clone();
        let behaviour = behaviour.clone();
        let log = log.clone();
        async move {
            log.lock().unwrap().push(serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null));
            tokio::time::sleep(behaviour.delay).await;
            if let Some((content_type, text)) = behaviour.raw {
                let mut r = (StatusCode::from_u16(behaviour.status.unwrap_or(200)).unwrap(), text).into_response();
                r.headers_mut().insert("content-type", content_type.parse().unwrap());
                return r;
            }
            let answer = if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer s3cret") {
                json!({"data": null, "errors": [{"message": "not authenticated", "extensions": {"code": "UNAUTHENTICATED"}}]})
            } else {
                let request: async_graphql::Request = match serde_json::from_slice(&body) {
                    Ok(r) => r,
                    Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
                };
                serde_json::to_value(schema.execute(request).await).unwrap()
            };
            let mut r: Response = (StatusCode::from_u16(behaviour.status.unwrap_or(200)).unwrap(), answer.to_string()).into_response();
            r.headers_mut().insert("content-type", "application/graphql-response+json".parse().unwrap());
            r
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.ok();
    });
    Crm {
        url,
        requests,
        created,
    }
}

async fn facade(crm: &Crm, dir: &str, token: &str) -> Ponte {
    let env = HashMap::from([
        ("CRM_URL".to_string(), crm.url.clone()),
        ("CRM_TOKEN".to_string(), token.to_string()),
    ]);
    Ponte::start(&repo_path(dir), env).await
}

#[tokio::test]
async fn contact_by_id_maps_the_payload() {
    let crm = crm(Behaviour::default()).await;
    let ponte = facade(&crm, "adapters", "s3cret").await;
    let answer = ponte.get("/crm/contacts/1").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"id": "1", "name": "Maria Silva", "email": "maria@acme.com.br", "phone": "+55 11 99999-0000", "company": "Acme", "tags": ["vip"]})
    );
    let sent = crm.requests.lock().unwrap().last().cloned().unwrap();
    assert_eq!(sent["operationName"], Value::Null);
    assert_eq!(sent["variables"], json!({"id": "1"}));
}

#[tokio::test]
async fn null_contact_is_404_and_a_not_found_error_too() {
    let crm = crm(Behaviour::default()).await;
    let ponte = facade(&crm, "adapters", "s3cret").await;
    ponte
        .get("/crm/contacts/42")
        .await
        .assert_problem(404, "not_found");
    let answer = ponte.get("/crm/contacts/gone").await;
    answer.assert_problem(404, "contact_not_found");
    assert_eq!(answer.json["detail"], "contact 'gone' was deleted");
}

#[tokio::test]
async fn search_sends_only_the_filters_given() {
    let crm = crm(Behaviour::default()).await;
    let ponte = facade(&crm, "adapters", "s3cret").await;
    let answer = ponte.get("/crm/contacts?tag=vip&limit=1").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"total": 2, "contacts": [{"id": "1", "name": "Maria Silva", "email": "maria@acme.com.br", "company": "Acme"}]})
    );
    let sent = crm.requests.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        sent["variables"],
        json!({"filter": {"tag": "vip"}, "first": 1})
    );

    let answer = ponte.get("/crm/contacts?domain=lima.dev").await;
    assert_eq!(answer.json["contacts"][0]["name"], "Ana Lima");
    let answer = ponte.get("/crm/contacts?limit=500").await;
    answer.assert_problem(400, "bad_input");
}

#[tokio::test]
async fn create_contact_is_a_post_with_a_json_body() {
    let crm = crm(Behaviour::default()).await;
    let ponte = facade(&crm, "adapters", "s3cret").await;
    let answer = ponte
        .post_json(
            "/crm/contacts",
            &json!({"first_name": "Lia", "last_name": "Reis", "email": "lia@reis.com"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"id": "99", "name": "Lia Reis", "email": "lia@reis.com"})
    );
    assert_eq!(
        crm.created.lock().unwrap()[0],
        json!({"first": "Lia", "email": "lia@reis.com", "phone": null, "company": null})
    );

    let answer = ponte
        .post_json(
            "/crm/contacts",
            &json!({"first_name": " ", "last_name": "Reis"}),
        )
        .await;
    answer.assert_problem(422, "invalid_contact");
    assert_eq!(answer.json["detail"], "firstName must not be empty");
}

#[tokio::test]
async fn partial_data_is_an_error_unless_the_route_allows_it() {
    let crm = crm(Behaviour::default()).await;
    let ponte = facade(&crm, "tests/graphql-adapters", "s3cret").await;
    let strict = ponte.get("/crmlab/strict/3").await;
    strict.assert_problem(502, "backend_fault");
    assert_eq!(strict.json["graphql_code"], "UNAVAILABLE");
    assert_eq!(strict.json["graphql_path"], "contact.phone");
    strict.assert_hides("phone directory unavailable");

    let lenient = ponte.get("/crmlab/lenient/3").await;
    assert_eq!(
        (lenient.status, lenient.json.clone()),
        (200, json!({"name": "Ana", "phone": null})),
        "{}",
        lenient.text
    );
}

#[tokio::test]
async fn errors_decide_whether_the_status_is_200_or_400() {
    for status in [200, 400] {
        let crm = crm(Behaviour {
            status: Some(status),
            raw: Some((
                "application/json",
                r#"{"errors":[{"message":"Cannot query field \"nome\" on type \"Contact\".","locations":[{"line":1,"column":28}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}"#,
            )),
            ..Default::default()
        })
        .await;
        let ponte = facade(&crm, "adapters", "s3cret").await;
        let answer = ponte.get("/crm/contacts/1").await;
        answer.assert_problem(502, "backend_fault");
        assert_eq!(
            answer.json["graphql_code"], "GRAPHQL_VALIDATION_FAILED",
            "HTTP {status}"
        );
        assert!(answer.detail().contains(&format!("HTTP {status}")));
    }
}

#[tokio::test]
async fn refused_credentials_are_a_502_not_the_callers_fault() {
    let crm = crm(Behaviour::default()).await;
    let ponte = facade(&crm, "adapters", "wrong").await;
    let answer = ponte.get("/crm/contacts/1").await;
    answer.assert_problem(502, "backend_auth_failed");
    assert_eq!(answer.json["graphql_code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn slow_backend_is_504() {
    let crm = crm(Behaviour {
        delay: Duration::from_secs(2),
        ..Default::default()
    })
    .await;
    let ponte = facade(&crm, "tests/graphql-adapters", "s3cret").await;
    ponte
        .get("/crmlab/strict/1")
        .await
        .assert_problem(504, "backend_timeout");
}

#[tokio::test]
async fn a_reply_that_is_not_json_is_502() {
    let crm = crm(Behaviour {
        status: Some(502),
        raw: Some(("text/html", "<html><body>Bad Gateway</body></html>")),
        ..Default::default()
    })
    .await;
    let ponte = facade(&crm, "adapters", "s3cret").await;
    let answer = ponte.get("/crm/contacts/1").await;
    answer.assert_problem(502, "bad_backend_reply");
    assert!(answer.detail().contains("HTML page"), "{}", answer.text);
    assert_eq!(
        crm.requests.lock().unwrap().len(),
        2,
        "a GET is retried once on 502"
    );
}

#[tokio::test]
async fn a_document_from_a_file_runs_the_named_operation() {
    let crm = crm(Behaviour::default()).await;
    let ponte = facade(&crm, "tests/graphql-adapters", "s3cret").await;
    let answer = ponte.get("/crmlab/file/3").await;
    assert_eq!(
        (answer.status, answer.json.clone()),
        (200, json!({"name": "Ana Lima", "tags": ["vip", "new"]})),
        "{}",
        answer.text
    );
    let sent = crm.requests.lock().unwrap().last().cloned().unwrap();
    assert_eq!(sent["operationName"], "Long");
    assert!(
        sent["query"].as_str().unwrap().contains("query Short"),
        "the whole document is sent"
    );
}
