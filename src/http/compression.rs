//! Response compression at the edge: brotli or gzip, negotiated by `Accept-Encoding`, for
//! text formats only. Audio and images are already compressed, and a byte range of a
//! compressed stream would not be the range the client asked for, so they pass untouched,
//! as does anything that already carries a `Content-Encoding` (precompressed static assets).
//!
//! [`negotiate`] is the one reading of `Accept-Encoding`, for this middleware and for the
//! precompressed store-front assets alike.

use actix_http::encoding::Encoder;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    self, AcceptEncoding, ContentEncoding, Encoding as Coding, Header, HeaderMap, HeaderValue,
    Preference, Quality,
};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::HttpMessage;

pub use crate::storefront::Encoding;

/// Media types worth compressing: what the API, the store front and the exports send.
const COMPRESSIBLE: &[&str] = &[
    "application/json",
    "application/problem+json",
    "application/x-ndjson",
    "application/javascript",
    "text/javascript",
    "text/html",
    "text/css",
    "text/csv",
    "text/plain",
];

pub async fn middleware<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B, Encoder<B>>>, actix_web::Error> {
    let encoding = match negotiate(&req) {
        Encoding::Brotli => Some(ContentEncoding::Brotli),
        Encoding::Gzip => Some(ContentEncoding::Gzip),
        Encoding::Identity => None,
    };
    let mut res = next.call(req).await?;
    if !compressible(res.headers()) {
        return Ok(res.map_into_left_body());
    }
    let encodable = !res.headers().contains_key(header::CONTENT_ENCODING)
        && !matches!(
            res.status(),
            StatusCode::PARTIAL_CONTENT | StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED
        );
    let Some(encoding) = encoding.filter(|_| encodable) else {
        // Caches must still key this answer on Accept-Encoding: another client gets it encoded.
        if encodable {
            res.headers_mut()
                .append(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        return Ok(res.map_into_left_body());
    };
    // The encoded bytes are another representation: a strong validator of the identity
    // bytes would be false for them, so it becomes weak (RFC 9110 §8.8.3).
    if let Some(weak) = res
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with('"'))
        .and_then(|v| HeaderValue::from_str(&format!("W/{v}")).ok())
    {
        res.headers_mut().insert(header::ETAG, weak);
    }
    let (req, res) = res.into_parts();
    let (mut res, body) = res.into_parts();
    // Sets Content-Encoding and Vary, and leaves empty bodies alone.
    let body = Encoder::response(encoding, res.head_mut(), body);
    Ok(ServiceResponse::new(req, res.set_body(body)).map_into_right_body())
}

fn compressible(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    COMPRESSIBLE.contains(&essence.as_str())
}

/// The coding a response to `req` should be in (RFC 9110 §12.5.3), read with actix's typed
/// `Accept-Encoding`: the acceptable one with the highest weight among brotli and gzip,
/// brotli on a tie; `*` stands for the codings the header does not name. A missing or
/// unparsable header, or one that accepts neither, gets the bytes as they are: an
/// unencoded answer is always allowed, and better than a 406.
pub fn negotiate(req: &impl HttpMessage) -> Encoding {
    let Ok(accept) = AcceptEncoding::parse(req) else {
        return Encoding::Identity;
    };
    let any = accept
        .0
        .iter()
        .find(|item| matches!(item.item, Preference::Any));
    // The weight the header gives a coding: its own item's, else the wildcard's.
    let weight = |named: &dyn Fn(&Coding) -> bool| {
        let own = accept.0.iter().find(|item| match &item.item {
            Preference::Specific(coding) => named(coding),
            Preference::Any => false,
        });
        own.or(any)
            .map(|item| item.quality)
            .filter(|q| *q > Quality::ZERO)
    };
    let brotli = weight(&|c| *c == Coding::brotli());
    let gzip = weight(&|c| match c {
        Coding::Known(known) => *known == ContentEncoding::Gzip,
        Coding::Unknown(other) => other.eq_ignore_ascii_case("x-gzip"),
    });
    match (brotli, gzip) {
        (Some(b), Some(g)) if g > b => Encoding::Gzip,
        (Some(_), _) => Encoding::Brotli,
        (None, Some(_)) => Encoding::Gzip,
        (None, None) => Encoding::Identity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn negotiated(accept: Option<&str>) -> Encoding {
        let mut req = actix_web::test::TestRequest::get();
        if let Some(accept) = accept {
            req = req.insert_header((header::ACCEPT_ENCODING, accept));
        }
        negotiate(&req.to_http_request())
    }

    #[test]
    fn brotli_wins_a_tie_and_the_weight_decides_otherwise() {
        use Encoding::*;
        assert_eq!(negotiated(Some("gzip, deflate, br, zstd")), Brotli);
        assert_eq!(negotiated(Some("gzip, deflate")), Gzip);
        assert_eq!(negotiated(Some("br;q=0.5, gzip;q=0.8")), Gzip);
        assert_eq!(negotiated(Some("gzip, br;q=0")), Gzip);
        assert_eq!(negotiated(Some("BR;Q=0.9")), Brotli);
        assert_eq!(negotiated(Some("x-gzip")), Gzip);
    }

    #[test]
    fn a_wildcard_stands_for_the_codings_not_named() {
        use Encoding::*;
        assert_eq!(negotiated(Some("*")), Brotli);
        assert_eq!(negotiated(Some("*;q=0, gzip")), Gzip);
        assert_eq!(negotiated(Some("br;q=0, *")), Gzip);
    }

    #[test]
    fn anything_else_gets_the_bytes_as_they_are() {
        use Encoding::*;
        assert_eq!(negotiated(Some("br;q=0, gzip;q=0")), Identity);
        assert_eq!(negotiated(Some("identity")), Identity);
        assert_eq!(negotiated(Some("deflate")), Identity);
        assert_eq!(negotiated(Some("")), Identity);
        assert_eq!(negotiated(Some("gzip;q=banana")), Identity);
        assert_eq!(negotiated(None), Identity);
    }

    #[test]
    fn only_text_formats_are_compressible() {
        let with = |ct: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
            compressible(&headers)
        };
        assert!(with("application/json"));
        assert!(with("text/html; charset=utf-8"));
        assert!(with("application/problem+json"));
        assert!(!with("audio/mpeg"));
        assert!(!with("image/webp"));
        assert!(!with("application/octet-stream"));
        assert!(!compressible(&HeaderMap::new()));
    }

    #[actix_web::test]
    async fn an_answer_that_is_already_encoded_is_not_encoded_again() {
        use actix_web::{test, web, App, HttpResponse};
        let gzipped: &[u8] = &[
            0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let app = test::init_service(
            App::new()
                .wrap(actix_web::middleware::from_fn(middleware))
                .route(
                    "/app.js",
                    web::get().to(move || async move {
                        HttpResponse::Ok()
                            .content_type("text/javascript")
                            .insert_header((header::CONTENT_ENCODING, "gzip"))
                            .body(gzipped)
                    }),
                ),
        )
        .await;
        let req = test::TestRequest::get()
            .uri("/app.js")
            .insert_header((header::ACCEPT_ENCODING, "br"))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.headers().get(header::CONTENT_ENCODING).unwrap(), "gzip");
        assert_eq!(test::read_body(res).await.as_ref(), gzipped);
    }

    #[actix_web::test]
    async fn an_encoded_answer_gets_a_weak_validator() {
        use actix_web::{test, web, App, HttpResponse};
        let app = test::init_service(
            App::new()
                .wrap(actix_web::middleware::from_fn(middleware))
                .route(
                    "/page",
                    web::get().to(|| async {
                        HttpResponse::Ok()
                            .content_type("text/html")
                            .insert_header((header::ETAG, "\"v1\""))
                            .body("<p>".repeat(500))
                    }),
                ),
        )
        .await;
        let request = |accept: &'static str| {
            test::TestRequest::get()
                .uri("/page")
                .insert_header((header::ACCEPT_ENCODING, accept))
                .to_request()
        };
        let res = test::call_service(&app, request("gzip")).await;
        assert_eq!(res.headers().get(header::CONTENT_ENCODING).unwrap(), "gzip");
        assert_eq!(res.headers().get(header::ETAG).unwrap(), "W/\"v1\"");
        let res = test::call_service(&app, request("identity")).await;
        assert_eq!(res.headers().get(header::CONTENT_ENCODING), None);
        assert_eq!(res.headers().get(header::ETAG).unwrap(), "\"v1\"");
    }
}
