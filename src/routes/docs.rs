//! The API description: the OpenAPI 3.1 document at `/api/openapi.json` and interactive
//! docs at `/docs` (RapiDoc, vendored in `static/vendor/rapidoc` so it works offline).

use actix_web::http::header::ContentType;
use actix_web::{get, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

/// The document, serialised once per worker at start.
pub struct OpenApiJson(pub String);

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(openapi_json)
        .service(docs_page)
        .service(docs_script);
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(tag = "operations", responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
#[get("/api/openapi.json")]
async fn openapi_json(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(doc.0.clone())
}

/// Interactive API documentation.
#[utoipa::path(tag = "operations", responses((status = 200, description = "An HTML page", content_type = "text/html")))]
#[get("/docs")]
async fn docs_page() -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::html()).body(
        r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Chinook API</title>
  <script type="module" src="/docs/rapidoc-min.js"></script>
</head>
<body>
  <rapi-doc spec-url="/api/openapi.json" render-style="read" show-header="false"
            allow-try="true" schema-style="table" primary-color="#1f6feb"></rapi-doc>
</body>
</html>
"##,
    )
}

/// The script of the documentation page.
/// Compressed once (brotli or gzip by Accept-Encoding), with an ETag.
#[utoipa::path(tag = "operations", responses(
    (status = 200, description = "JavaScript; ETag, brotli or gzip by Accept-Encoding", content_type = "text/javascript"),
    (status = 304, description = "The client's copy (If-None-Match) is current"),
))]
#[get("/docs/rapidoc-min.js")]
async fn docs_script(req: HttpRequest) -> HttpResponse {
    super::storefront::respond(&req, crate::storefront::rapidoc(), "public, max-age=86400")
}
