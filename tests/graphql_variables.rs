//! Caller-caused GraphQL variable errors are the caller's 400, against a real async-graphql
//! server: checked before the call when the schema is known, and read from the server's
//! coercion error when it is not.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{ComplexObject, EmptySubscription, ID, InputObject, Object, SimpleObject};
use axum::body::Bytes;
use common::Ponte;
use serde_json::json;

#[derive(SimpleObject)]
#[graphql(complex)]
struct Note {
    id: ID,
    title: String,
}

#[ComplexObject]
impl Note {
    /// A field that always fails on the server.
    async fn secret(&self) -> async_graphql::Result<String> {
        Err("the vault is closed".into())
    }
}

#[derive(InputObject)]
struct NoteInput {
    title: String,
    tags: Option<Vec<String>>,
}

struct Query;

#[Object]
impl Query {
    async fn ping(&self) -> &str {
        "pong"
    }
    async fn note(&self, id: ID) -> Option<Note> {
        (id.as_str() != "404").then(|| Note {
            title: format!("note {}", id.as_str()),
            id,
        })
    }
    async fn notes(&self, #[graphql(default = 2)] first: i32) -> Vec<Note> {
        (1..=first)
            .map(|i| Note {
                id: ID(i.to_string()),
                title: format!("note {i}"),
            })
            .collect()
    }
}

struct Mutation;

#[Object]
impl Mutation {
    async fn add_note(&self, input: NoteInput) -> String {
        format!(
            "{}:{}",
            input.title,
            input.tags.unwrap_or_default().join(",")
        )
    }
}

type Notes = async_graphql::Schema<Query, Mutation, EmptySubscription>;

/// The server, how many requests it got, and a folder with its adapter (with or without the
/// schema the server exports).
async fn notes(with_schema: bool) -> (Ponte, Arc<AtomicUsize>, tempfile::TempDir) {
    let (url, calls, schema) = server().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.graphql"), schema).unwrap();
    let schema_line = if with_schema {
        ", schema: notes.graphql"
    } else {
        ""
    };
    std::fs::write(
        dir.path().join("notes.yaml"),
        format!(
            r#"name: notes
backend:
  graphql: {{ url: "${{NOTES_URL}}"{schema_line} }}
routes:
  add:
    method: POST
    path: /notes
    input:
      title: {{ in: body, type: string }}
      tags: {{ in: body, type: json, required: false }}
    query: "mutation($input: NoteInput!) {{ addNote(input: $input) }}"
    variables: {{ input: {{ title: $title, tags: $tags }} }}
    response: {{ result: addNote }}
"#
        ),
    )
    .unwrap();
    let env = HashMap::from([("NOTES_URL".to_string(), url)]);
    (Ponte::start(dir.path(), env).await, calls, dir)
}

/// The notes server: its URL, how many requests it got, and its SDL.
async fn server() -> (String, Arc<AtomicUsize>, String) {
    let schema: Notes = async_graphql::Schema::build(Query, Mutation, EmptySubscription).finish();
    let sdl = schema.sdl();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = axum::Router::new().fallback(move |body: Bytes| {
        let schema = schema.clone();
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            let request: async_graphql::Request = serde_json::from_slice(&body).unwrap();
            serde_json::to_string(&schema.execute(request).await).unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.ok();
    });
    (url, calls, sdl)
}

#[tokio::test]
async fn a_good_json_input_reaches_the_backend() {
    let (ponte, calls, _dir) = notes(true).await;
    let answer = ponte
        .post_json("/notes/notes", &json!({"title": "t", "tags": ["a", "b"]}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json, json!({"result": "t:a,b"}));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_json_input_of_the_wrong_type_is_400_before_the_backend() {
    let (ponte, calls, _dir) = notes(true).await;
    let answer = ponte
        .post_json("/notes/notes", &json!({"title": "t", "tags": ["a", 2]}))
        .await;
    answer.assert_problem(400, "bad_input");
    assert_eq!(answer.json["errors"][0]["field"], "tags", "{}", answer.text);
    let problem = answer.json["errors"][0]["problem"].as_str().unwrap();
    assert!(
        problem.contains("`input.tags[1]` must be String, got a number (2)"),
        "{problem}"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "the backend is never called"
    );
}

#[tokio::test]
async fn a_server_variable_coercion_error_is_400() {
    // Without the schema ponte cannot check first: the server refuses the variable.
    let (ponte, calls, _dir) = notes(false).await;
    let answer = ponte
        .post_json(
            "/notes/notes",
            &json!({"title": "t", "tags": {"not": "a list"}}),
        )
        .await;
    answer.assert_problem(400, "bad_input");
    assert_eq!(answer.json["errors"][0]["field"], "tags", "{}", answer.text);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// The importer against the real server: defaults let a caller leave arguments out, a missing
/// object is a 404, and a field that always fails breaks its routes until it is excluded.
#[tokio::test]
async fn an_imported_adapter_works_once_the_failing_field_is_excluded() {
    let (url, _, sdl) = server().await;
    let answers = |exclude: Vec<String>| {
        let (url, sdl) = (url.clone(), sdl.clone());
        async move {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("notes.graphql"), &sdl).unwrap();
            let options = ponte::graphql::import::ImportOptions { depth: 2, exclude };
            let imported = ponte::graphql::import::import_with(
                &sdl,
                std::path::Path::new("notes.graphql"),
                "notes.graphql",
                &url,
                "notes",
                &options,
            )
            .unwrap();
            std::fs::write(dir.path().join("notes.yaml"), &imported.yaml).unwrap();
            let ponte = Ponte::start(dir.path(), HashMap::new()).await;
            let one = ponte.get("/notes/note?id=7").await;
            let missing = ponte.get("/notes/note?id=404").await;
            let list = ponte.get("/notes/notes").await;
            (one, missing, list)
        }
    };
    let (one, _, list) = answers(Vec::new()).await;
    one.assert_problem(502, "backend_fault");
    list.assert_problem(502, "backend_fault");

    let (one, missing, list) = answers(vec!["Note.secret".into()]).await;
    assert_eq!(
        (one.status, one.json.clone()),
        (200, json!({"id": "7", "title": "note 7"})),
        "{}",
        one.text
    );
    missing.assert_problem(404, "not_found");
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(
        list.json,
        json!({"items": [{"id": "1", "title": "note 1"}, {"id": "2", "title": "note 2"}]})
    );
}
