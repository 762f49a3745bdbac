//! The whole URL space, in one place. `build_app` is used by `main.rs` and by
//! every integration test.

use actix_web::body::MessageBody;
use actix_web::dev::Service;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Condition, Logger};
use actix_web::{App, HttpRequest, web};
use utoipa_actix_web::{AppExt, scope};

use crate::error::AppError;
use crate::state::AppState;
use crate::{
    approvals, audit, auth, demand, health, http, imports, lookup, openapi, organisations, policy, reports, submissions,
};

pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, api) = App::new()
        .into_utoipa_app()
        .openapi(openapi::base())
        .app_data(web::Data::new(state))
        .map(|app| app.configure(http::configure_extractors))
        // GET /healthz
        .service(health::healthz)
        .service(
            scope::scope("/api/v1")
                // GET /api/v1/lookup (first: the question asked most)
                .service(lookup::routes::lookup)
                // POST /api/v1/evaluate, GET /api/v1/policies
                .service(policy::routes::evaluate)
                .service(policy::routes::rule_set)
                // POST /api/v1/policies/reload, GET /api/v1/policies/jobs[/{id}], GET /api/v1/policies/drift
                .service(policy::routes::reload)
                .service(policy::routes::jobs)
                .service(policy::routes::job)
                .service(policy::routes::drift)
                // GET /api/v1/organisations
                .service(organisations::routes::list)
                // GET /api/v1/demand?org=SLUG&days=30
                .service(demand::routes::most_asked)
                // GET /api/v1/import-template.xlsx, POST /api/v1/imports?org=SLUG
                .service(imports::routes::import_template)
                .service(imports::routes::import)
                // POST /api/v1/services
                .service(submissions::routes::create_service)
                // GET /api/v1/services/{service_id}
                .service(submissions::routes::get_service)
                // POST /api/v1/services/{service_id}/revisions
                .service(submissions::routes::add_revision)
                // GET /api/v1/services/{service_id}/revisions/{revision}
                .service(submissions::routes::get_revision)
                // POST /api/v1/services/{service_id}/revisions/{revision}/submit
                .service(submissions::routes::submit_revision)
                // POST /api/v1/services/{service_id}/decisions
                .service(approvals::routes::decide)
                // POST /api/v1/decisions/{decision_id}/revoke
                .service(approvals::routes::revoke_decision)
                // GET, POST /api/v1/delegations
                .service(approvals::routes::list_delegations)
                .service(approvals::routes::create_delegation)
                // POST /api/v1/delegations/{id}/revoke
                .service(approvals::routes::revoke_delegation)
                // GET, POST /api/v1/people
                .service(auth::routes::list_people)
                .service(auth::routes::add_person)
                // POST /api/v1/people/{id}/roles, …/roles/{role}/revoke, …/deactivate, …/tokens
                .service(auth::routes::grant_role)
                .service(auth::routes::revoke_role)
                .service(auth::routes::deactivate_person)
                .service(auth::routes::issue_token)
                // POST /api/v1/tokens/{id}/revoke
                .service(auth::routes::revoke_token)
                // GET /api/v1/reports/compliance
                .service(reports::routes::compliance)
                // GET /api/v1/audit, GET /api/v1/audit/head
                .service(audit::routes::export)
                .service(audit::routes::head),
        )
        .split_for_parts();

    let (spec, routes) = openapi::finish(api);
    let routes = routes.with(PAGE_ROUTES);
    app.app_data(web::Data::new(spec))
        .app_data(web::Data::new(routes))
        // GET /openapi.json
        .route("/openapi.json", web::get().to(openapi::serve))
        // Pages: GET /, /register, /register/{org}[.json|.csv], /static/style.css
        .route("/", web::get().to(lookup::pages::lookup_page))
        .route("/register", web::get().to(lookup::pages::registers_page))
        .route("/register/{org}", web::get().to(lookup::pages::register_page))
        .route("/register/{org}/{service_id}", web::get().to(lookup::pages::public_service_page))
        .route("/ordlista", web::get().to(submissions::pages::glossary_page))
        .service(
            web::resource("/login")
                .route(web::get().to(auth::pages::login_page))
                .route(web::post().to(auth::pages::login)),
        )
        // The callback before `{org}`: routes match in this order.
        .route("/login/sso/callback", web::get().to(auth::pages::sso::callback))
        .route("/login/sso/{org}", web::get().to(auth::pages::sso::start))
        .route("/logout", web::post().to(auth::pages::logout))
        .route("/start", web::get().to(approvals::pages::start_page))
        .route("/services/{id}", web::get().to(approvals::pages::service_page))
        .route("/services/{id}/decide", web::post().to(approvals::pages::decide))
        .route("/decisions/{id}/revoke", web::post().to(approvals::pages::revoke_decision))
        .route("/services/{id}/revisions/{n}/submit", web::post().to(approvals::pages::submit))
        .route("/services/{id}/drafts", web::post().to(submissions::pages::start_version))
        .route("/drafts", web::post().to(submissions::pages::start))
        .service(
            web::resource("/drafts/{id}")
                .route(web::get().to(submissions::pages::page))
                .route(web::post().to(submissions::pages::save)),
        )
        .route("/reports", web::get().to(reports::pages::reports_page))
        .route("/reports/compliance", web::get().to(reports::pages::report))
        .route("/audit-log", web::get().to(reports::pages::audit_page))
        .route("/demand", web::get().to(demand::pages::demand_page))
        .service(
            web::resource("/import")
                .route(web::get().to(imports::pages::import_page))
                .route(web::post().to(imports::pages::import)),
        )
        .service(
            web::resource("/admin/delegations")
                .route(web::get().to(approvals::pages::delegations_page))
                .route(web::post().to(approvals::pages::create_delegation)),
        )
        .route("/admin/delegations/{id}/revoke", web::post().to(approvals::pages::revoke_delegation))
        .service(
            web::resource("/admin/people")
                .route(web::get().to(auth::pages::people_page))
                .route(web::post().to(auth::pages::add_person)),
        )
        .route("/admin/people/{id}/roles", web::post().to(auth::pages::grant_role))
        .route("/admin/people/{id}/roles/{role}/revoke", web::post().to(auth::pages::revoke_role))
        .route("/static/style.css", web::get().to(crate::web::style))
        .route("/static/report.css", web::get().to(crate::web::report_style))
        .default_service(web::to(not_found))
        .wrap_fn(|req, srv| {
            // Answers to signed-in callers are never cached anywhere.
            let signed_in = req.headers().contains_key(header::AUTHORIZATION);
            let response = srv.call(req);
            async move {
                let mut response = response.await?;
                if signed_in {
                    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                }
                Ok(response)
            }
        })
        .wrap(http::normalize_path())
        .wrap_fn(|req, srv| {
            let response = srv.call(req);
            async move {
                let mut response = response.await?;
                http::add_security_headers(response.headers_mut());
                Ok(response)
            }
        })
        // The access log, unless the log filter leaves it out anyway (its
        // line is prepared before the filter is asked).
        .wrap(Condition::new(
            log::log_enabled!(target: "actix_web::middleware::logger", log::Level::Info),
            Logger::new("%a \"%r\" %s %b %Dms"),
        ))
}

/// The pages and their methods, for 405 answers (the API's come from its
/// OpenAPI description).
const PAGE_ROUTES: &[(&str, &[&str])] = &[
    ("/", &["GET"]),
    ("/register", &["GET"]),
    ("/register/{org}", &["GET"]),
    ("/register/{org}/{service_id}", &["GET"]),
    ("/ordlista", &["GET"]),
    ("/login", &["GET", "POST"]),
    ("/login/sso/callback", &["GET"]),
    ("/login/sso/{org}", &["GET"]),
    ("/logout", &["POST"]),
    ("/start", &["GET"]),
    ("/services/{id}", &["GET"]),
    ("/services/{id}/decide", &["POST"]),
    ("/decisions/{id}/revoke", &["POST"]),
    ("/services/{id}/revisions/{n}/submit", &["POST"]),
    ("/services/{id}/drafts", &["POST"]),
    ("/drafts", &["POST"]),
    ("/drafts/{id}", &["GET", "POST"]),
    ("/reports", &["GET"]),
    ("/reports/compliance", &["GET"]),
    ("/audit-log", &["GET"]),
    ("/demand", &["GET"]),
    ("/import", &["GET", "POST"]),
    ("/admin/delegations", &["GET", "POST"]),
    ("/admin/delegations/{id}/revoke", &["POST"]),
    ("/admin/people", &["GET", "POST"]),
    ("/admin/people/{id}/roles", &["POST"]),
    ("/admin/people/{id}/roles/{role}/revoke", &["POST"]),
];

async fn not_found(
    state: web::Data<AppState>,
    routes: web::Data<openapi::RouteTable>,
    req: HttpRequest,
) -> actix_web::HttpResponse {
    // A documented path with another method: 405 and the methods it takes.
    if let Some(allowed) = routes.allowed(req.path()) {
        let mut response = if crate::web::wants_html(&req) {
            state.views.error_page(&req, &AppError::MethodNotAllowed)
        } else {
            actix_web::ResponseError::error_response(&AppError::MethodNotAllowed)
        };
        if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
            response.headers_mut().insert(header::ALLOW, value);
        }
        return response;
    }
    if crate::web::wants_html(&req) {
        state.views.error_page(&req, &AppError::RouteNotFound)
    } else {
        actix_web::ResponseError::error_response(&AppError::RouteNotFound)
    }
}
