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

/// Placeholder for the JSON compliance report; replaced by
/// `schemas/compliance-report.schema.json` when the description is finished.
pub struct ComplianceReportDocument;

impl PartialSchema for ComplianceReportDocument {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().description(Some("The compliance report (schemas/compliance-report.schema.json)")).into()
    }
}

impl ToSchema for ComplianceReportDocument {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ComplianceReportDocument")
    }
}

const COMPLIANCE_REPORT_SCHEMA: &str = include_str!("../schemas/compliance-report.schema.json");

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
    components(schemas(SubmissionDocument, ComplianceReportDocument)),
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

/// The text constraint every request string has (no control characters but
/// tab, line feed and carriage return; no bidi embedding, override or
/// isolate controls), as the server enforces it.
pub const TEXT_PATTERN: &str =
    "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069]*$";

/// Answers any operation may give, added to every operation so that the
/// description lists every status the server can send.
fn add_common_responses(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            let has_body = op.get("requestBody").is_some();
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
            let mut add = |status: &str, description: &str| {
                responses.entry(status.to_string()).or_insert_with(|| {
                    serde_json::json!({
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
                    })
                });
            };
            add(
                "400",
                "The request could not be read (malformed JSON, a bad or repeated query parameter, an unexpected body)",
            );
            add("401", "A token was sent but is not valid (or a token is required)");
            add("404", "No such object or organisation, or one the caller may not see");
            add("422", "The request breaks a rule (see the error's details)");
            add("503", "The database is busy or down; retry");
            if method == "post" || has_body {
                add("409", "The request conflicts with the current state (see the error's code)");
                add("413", "The body is over 256 KiB");
                add("415", "The body is not application/json");
            }
            if path == "/api/v1/lookup" {
                add("429", "Too many requests from this client; see Retry-After");
            }
        }
    }
}

/// Adds the text constraint to every request string that has no format,
/// pattern or list of values of its own (request bodies and parameters).
fn constrain_text(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let is_string = match map.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
                _ => false,
            };
            if is_string && !["format", "pattern", "enum", "const"].iter().any(|k| map.contains_key(*k)) {
                map.insert("pattern".into(), Value::String(TEXT_PATTERN.into()));
            }
            for v in map.values_mut() {
                constrain_text(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(constrain_text),
        _ => {}
    }
}

/// Query, path and header parameters: the text constraint, and the exact
/// form of an Idempotency-Key.
fn constrain_parameters(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for op in item.values_mut() {
            let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else { continue };
            for param in params {
                if param.get("name").and_then(Value::as_str) == Some("Idempotency-Key") {
                    param["schema"] = serde_json::json!({
                        "type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[ -~]*[!-~][ -~]*$"
                    });
                } else if let Some(schema) = param.get_mut("schema") {
                    constrain_text(schema);
                }
            }
        }
    }
}

/// Method and path templates of every documented operation, for 405 answers.
#[derive(Clone, Default)]
pub struct RouteTable(Vec<(Vec<String>, Vec<String>)>);

impl RouteTable {
    fn from_doc(doc: &Value) -> RouteTable {
        let mut routes = Vec::new();
        if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                let segments = path.trim_matches('/').split('/').map(str::to_string).collect();
                let methods =
                    item.as_object().map(|m| m.keys().map(|k| k.to_uppercase()).collect()).unwrap_or_default();
                routes.push((segments, methods));
            }
        }
        RouteTable(routes)
    }

    /// Adds routes that are not in the OpenAPI description (the pages).
    pub fn with(mut self, routes: &[(&str, &[&str])]) -> RouteTable {
        for (path, methods) in routes {
            let segments = path.trim_matches('/').split('/').map(str::to_string).collect();
            self.0.push((segments, methods.iter().map(|m| m.to_string()).collect()));
        }
        self
    }

    /// The methods allowed on a path, when the path is a documented one.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        self.0
            .iter()
            .find(|(segments, _)| {
                segments.len() == parts.len()
                    && segments.iter().zip(&parts).all(|(s, p)| s == p || (s.starts_with('{') && !p.is_empty()))
            })
            .map(|(_, methods)| methods.clone())
    }
}

pub fn finish(api: utoipa::openapi::OpenApi) -> (OpenApiJson, RouteTable) {
    let mut doc = serde_json::to_value(&api).unwrap_or(Value::Null);
    add_common_responses(&mut doc);
    constrain_parameters(&mut doc);
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for (name, schema) in schemas.iter_mut() {
            if name.ends_with("Request") {
                constrain_text(schema);
            }
        }
    }
    let routes = RouteTable::from_doc(&doc);
    for (name, text) in
        [("SubmissionDocument", SUBMISSION_SCHEMA), ("ComplianceReportDocument", COMPLIANCE_REPORT_SCHEMA)]
    {
        if let (Some(schemas), Ok(Value::Object(mut schema))) =
            (doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut), serde_json::from_str::<Value>(text))
        {
            schema.remove("$schema");
            schema.remove("$id");
            if let Some(Value::Object(defs)) = schema.remove("$defs") {
                for (def_name, def) in defs {
                    schemas.insert(format!("{name}_{def_name}"), rewrite_refs(def, name));
                }
            }
            schemas.insert(name.into(), rewrite_refs(Value::Object(schema), name));
        }
    }
    (OpenApiJson(web::Bytes::from(serde_json::to_vec_pretty(&doc).unwrap_or_default())), routes)
}

fn rewrite_refs(value: Value, prefix: &str) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        let target = r
                            .strip_prefix("#/$defs/")
                            .map_or(r.clone(), |name| format!("#/components/schemas/{prefix}_{name}"));
                        (k, Value::String(target))
                    }
                    (_, v) => (k, rewrite_refs(v, prefix)),
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| rewrite_refs(v, prefix)).collect()),
        other => other,
    }
}

/// `GET /openapi.json`.
pub async fn serve(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(doc.0.clone())
}
