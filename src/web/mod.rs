//! The view machinery every capability's pages share: templates (handlebars,
//! Swedish first, English available), the page's language, escaping, the
//! style sheets, and (in `session`) the signed-in page and its form POST.
//! The pages themselves live with their capability, in its `pages.rs`.
//! Templates live in `templates/` and are built into the binary; every
//! value is HTML-escaped (`{{ }}` only, strict mode on).

pub mod session;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use handlebars::Handlebars;
use include_dir::{Dir, include_dir};
use serde::Serialize;
use serde_json::Value;

use crate::error::AppError;

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

pub use crate::lang::Lang;

pub const LANG_COOKIE: &str = "tillit_lang";

/// The page language: `?lang=`, else the cookie, else Swedish.
pub fn lang_of(req: &HttpRequest) -> Lang {
    let from_query = query_param(req, "lang");
    let chosen = from_query.or_else(|| req.cookie(LANG_COOKIE).map(|c| c.value().to_string()));
    match chosen.as_deref() {
        Some("en") => Lang::En,
        _ => Lang::Sv,
    }
}

pub fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    url_query_pairs(req.query_string()).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Decodes an `application/x-www-form-urlencoded` query string or form body.
pub fn url_query_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// The current URL with `lang` switched to the other language.
pub fn switch_lang_url(req: &HttpRequest, lang: Lang) -> String {
    let other = if lang == Lang::Sv { "en" } else { "sv" };
    let mut pairs: Vec<(String, String)> =
        url_query_pairs(req.query_string()).into_iter().filter(|(k, _)| k != "lang").collect();
    pairs.push(("lang".into(), other.into()));
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    format!("{}?{}", req.path(), query.join("&"))
}

/// The characters RFC 3986 leaves unreserved stay; every other byte is escaped.
const COMPONENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// One URL path segment or query component, escaped.
pub fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

/// The template registry and the country lists, built once. The words
/// come from the catalogue (`crate::i18n`).
pub struct Views {
    hb: Handlebars<'static>,
    countries_sv: Vec<(String, String)>,
    countries_en: Vec<(String, String)>,
}

impl Views {
    pub fn load() -> Result<Views, String> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        for file in TEMPLATES.files() {
            let path = file.path().to_string_lossy().to_string();
            let Some(name) = path.strip_suffix(".hbs") else { continue };
            let text = file.contents_utf8().ok_or_else(|| format!("template {path} is not UTF-8"))?;
            if text.contains("{{{") {
                return Err(format!("template {path} uses {{{{{{ }}}}}}: unescaped output is not allowed"));
            }
            hb.register_template_string(name, text).map_err(|e| format!("template {path}: {e}"))?;
            if name == "layout" {
                hb.register_partial(name, text).map_err(|e| format!("template {path}: {e}"))?;
            }
        }
        let catalogue = crate::i18n::catalogue();
        catalogue.check()?;
        // Countries by name, from the ISO 3166-1 names (ids `value-XX`).
        let countries = |lang: Lang| -> Vec<(String, String)> {
            let mut list: Vec<(String, String)> = catalogue
                .ids()
                .filter_map(|id| {
                    let code = id.strip_prefix("value-")?;
                    let is_country = code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase());
                    is_country.then(|| (code.to_string(), catalogue.text(lang, id)))
                })
                .collect();
            crate::swedish::SwedishOrder::new().sort_by_key(&mut list, |(_, name)| name.as_str());
            list
        };
        let views = Views { hb, countries_sv: countries(Lang::Sv), countries_en: countries(Lang::En) };
        Ok(views)
    }

    pub fn strings(&self, lang: Lang) -> &Value {
        crate::i18n::catalogue().strings(lang)
    }

    /// Every country as (code, name), in alphabetical order.
    pub fn countries(&self, lang: Lang) -> &[(String, String)] {
        match lang {
            Lang::Sv => &self.countries_sv,
            Lang::En => &self.countries_en,
        }
    }

    pub fn text(&self, lang: Lang, id: &str) -> String {
        crate::i18n::catalogue().text(lang, id)
    }

    /// A message with arguments (`register_intro` takes `org`).
    pub fn format(&self, lang: Lang, id: &str, args: &[(&str, crate::i18n::FluentValue)]) -> String {
        crate::i18n::catalogue().format(lang, id, args)
    }

    /// Renders a page: the template gets `t` (the strings), `title`,
    /// `switch_lang_url` and the page's own fields.
    pub fn render<T: Serialize>(
        &self,
        req: &HttpRequest,
        lang: Lang,
        template: &str,
        title: &str,
        page: &T,
    ) -> Result<String, AppError> {
        let mut context = serde_json::to_value(page)?;
        if let Some(map) = context.as_object_mut() {
            map.insert("t".into(), self.strings(lang).clone());
            map.insert("title".into(), Value::String(title.to_string()));
            map.insert("switch_lang_url".into(), Value::String(switch_lang_url(req, lang)));
            // The layout shows the signed-in person when a page passes one.
            map.entry("user").or_insert(Value::Null);
        }
        self.hb.render(template, &context).map_err(|e| AppError::internal(format!("render {template}: {e}")))
    }

    /// An error as a page in the same layout.
    pub fn error_page(&self, req: &HttpRequest, error: &AppError) -> HttpResponse {
        let lang = lang_of(req);
        let envelope = error.envelope();
        let message = if lang == Lang::Sv { envelope.error.message_sv } else { envelope.error.message };
        let page = serde_json::json!({ "message": message, "error_id": envelope.error.error_id });
        let title = self.text(lang, "error_title");
        let body = self
            .render(req, lang, "error", &title, &page)
            .unwrap_or_else(|_| "<!DOCTYPE html><title>Error</title><p>Error</p>".to_string());
        let mut response = html(actix_web::ResponseError::status_code(error), body);
        if let AppError::TooManyRequests { retry_after_secs } = error {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

pub fn html(status: StatusCode, body: String) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")));
    response.body(body)
}

/// Whether a request prefers a page to JSON (browsers).
pub fn wants_html(req: &HttpRequest) -> bool {
    req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"))
}

/// The Swedish or the English of a text that comes in both.
pub fn pick(lang: Lang, sv: &str, en: &str) -> String {
    if lang == Lang::Sv { sv.to_string() } else { en.to_string() }
}

/// The site's style sheet, compiled in.
const STYLE: &str = include_str!("../../templates/static/style.css");
/// The print styles of the HTML report.
const REPORT_STYLE: &str = include_str!("../../templates/static/report.css");

/// `GET /static/style.css`.
pub async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Content-Type", "text/css; charset=utf-8"))
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(STYLE)
}

/// `GET /static/report.css` — the print styles of the HTML report.
pub async fn report_style() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Content-Type", "text/css; charset=utf-8"))
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(REPORT_STYLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode() {
        assert_eq!(
            url_query_pairs("q=chat+gpt&org=kinda&x=%C3%96desh%C3%B6g&bad=%zz"),
            vec![
                ("q".into(), "chat gpt".into()),
                ("org".into(), "kinda".into()),
                ("x".into(), "Ödeshög".into()),
                ("bad".into(), "%zz".into())
            ]
        );
        assert_eq!(encode("a b/å"), "a%20b%2F%C3%A5");
    }
}
