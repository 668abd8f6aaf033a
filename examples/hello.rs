//! A bare actix-web server answering what `/health/live` answers, and nothing else: the
//! baseline `scripts/bench-middleware` measures the service's own middleware stack against.

use actix_web::{get, App, HttpResponse, HttpServer};

#[get("/health/live")]
async fn live() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::var("HELLO_BIND").unwrap_or_else(|_| "127.0.0.1:8089".into());
    HttpServer::new(|| App::new().service(live))
        .workers(1)
        .bind(bind)?
        .run()
        .await
}
