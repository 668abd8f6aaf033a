//! What answers a request no route takes: 405 with `Allow` when the path exists under other
//! methods, 404 otherwise. The OpenAPI document is the list of paths, so the two cannot drift.

use actix_web::http::header::{HeaderValue, ALLOW};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use crate::error::ApiError;

/// Path templates (`/api/v1/artists/{id}`) split into segments, with their methods.
pub struct KnownRoutes(Vec<(Vec<String>, Vec<String>)>);

impl KnownRoutes {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.split('/').map(str::to_string).collect();
                let mut methods: Vec<String> = item
                    .get
                    .iter()
                    .map(|_| "GET")
                    .chain(item.post.iter().map(|_| "POST"))
                    .chain(item.put.iter().map(|_| "PUT"))
                    .chain(item.patch.iter().map(|_| "PATCH"))
                    .chain(item.delete.iter().map(|_| "DELETE"))
                    .chain(item.head.iter().map(|_| "HEAD"))
                    .map(str::to_string)
                    .collect();
                methods.sort();
                (segments, methods)
            })
            .collect();
        Self(routes)
    }

    /// The methods documented for `path`, if it matches a template.
    fn methods_for(&self, path: &str) -> Option<&[String]> {
        let wanted: Vec<&str> = path.split('/').collect();
        self.0
            .iter()
            .find(|(template, _)| {
                template.len() == wanted.len()
                    && template.iter().zip(&wanted).all(|(t, w)| {
                        t == w || (t.starts_with('{') && t.ends_with('}') && !w.is_empty())
                    })
            })
            .map(|(_, methods)| methods.as_slice())
    }
}

pub async fn fallback(req: HttpRequest, known: web::Data<KnownRoutes>) -> HttpResponse {
    let path = req.path();
    match known.methods_for(path) {
        Some(methods) => {
            let allow = methods.join(", ");
            let mut response = ApiError::MethodNotAllowed(format!(
                "{} is not allowed on {path}; use {allow}",
                req.method()
            ))
            .error_response();
            if let Ok(value) = HeaderValue::from_str(&allow) {
                response.headers_mut().insert(ALLOW, value);
            }
            response
        }
        None => ApiError::NotFound(format!("there is no resource at {path}")).error_response(),
    }
}
