//! The OpenAPI 3.1 description, generated from the routes actually
//! registered in `app.rs` (utoipa-actix-web), with the real submission
//! schema put in place of its placeholder.

use std::borrow::Cow;

use actix_web::{HttpResponse, web};
use serde_json::{Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use crate::policy::loader::SUBMISSION_SCHEMA;

/// Placeholder for the submission document; replaced by
/// `schemas/submission.schema.json` when the description is finished.
pub struct SubmissionDocument;

impl PartialSchema for SubmissionDocument {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().description(Some("A submission document (schemas/submission.schema.json)")).into()
    }
}

impl ToSchema for SubmissionDocument {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SubmissionDocument")
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("tillit_pat_…").build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tillit",
        description = "Registry of approved AI services for Swedish municipalities.",
        license(name = "EUPL-1.2")
    ),
    components(schemas(SubmissionDocument)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The served document: OpenAPI 3.1 JSON with the submission schema inlined
/// as components (its `$defs` hoisted so that every `$ref` resolves).
#[derive(Clone)]
pub struct OpenApiJson(pub web::Bytes);

pub fn finish(api: utoipa::openapi::OpenApi) -> OpenApiJson {
    let mut doc = serde_json::to_value(&api).unwrap_or(Value::Null);
    if let (Some(schemas), Ok(Value::Object(mut submission))) = (
        doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut),
        serde_json::from_str::<Value>(SUBMISSION_SCHEMA),
    ) {
        submission.remove("$schema");
        submission.remove("$id");
        if let Some(Value::Object(defs)) = submission.remove("$defs") {
            for (name, def) in defs {
                schemas.insert(format!("SubmissionDocument_{name}"), rewrite_refs(def));
            }
        }
        schemas.insert("SubmissionDocument".into(), rewrite_refs(Value::Object(submission)));
    }
    OpenApiJson(web::Bytes::from(serde_json::to_vec_pretty(&doc).unwrap_or_default()))
}

fn rewrite_refs(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        let target = r
                            .strip_prefix("#/$defs/")
                            .map_or(r.clone(), |name| format!("#/components/schemas/SubmissionDocument_{name}"));
                        (k, Value::String(target))
                    }
                    (_, v) => (k, rewrite_refs(v)),
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(rewrite_refs).collect()),
        other => other,
    }
}

/// `GET /openapi.json`.
pub async fn serve(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(doc.0.clone())
}
