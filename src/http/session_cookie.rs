//! The store front's session cookie and its CSRF proof.
//!
//! A browser signs in with `?session=cookie`: the session's token goes into an `HttpOnly`,
//! `SameSite=Strict` cookie (`Secure` when the request came over TLS), so no page script can
//! read it, and the answer carries a CSRF token instead, also set as a cookie scripts may
//! read. The CSRF token is a one-way digest of the session token: it proves the caller could
//! read this origin's cookies, and tells nothing about the session token itself. Every
//! unsafe method authenticated by the cookie must send it back in `X-CSRF-Token`; a bearer
//! token needs no such proof, since no other site can make a browser send that header.

use actix_web::http::{header, Method};
use actix_web::HttpRequest;

/// The HttpOnly cookie holding the session token.
pub const SESSION: &str = "chinook_session";
/// The readable cookie holding the CSRF token, for the store front to send back.
pub const CSRF: &str = "chinook_csrf";
/// The header an unsafe cookie-authenticated request carries the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of the request's cookie `name`, if it sent one.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"').to_string())
        .filter(|value| !value.is_empty())
}

/// The CSRF token of a session: a digest, so a script that reads it learns nothing it could
/// sign in with.
pub fn csrf_token(session_token: &str) -> String {
    crate::hex::sha256(format!("chinook csrf v1\0{session_token}"))
}

/// Whether a request that the cookie authenticates may go on: safe methods always, others
/// with the session's CSRF token in `X-CSRF-Token`.
pub fn csrf_holds(req: &HttpRequest, session_token: &str) -> bool {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let Some(sent) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    // Compared as digests, so the comparison's timing says nothing about the expected value.
    crate::hex::sha256(sent.trim()) == crate::hex::sha256(csrf_token(session_token))
}

/// Whether the browser reached us over TLS (directly, or through a proxy that says so), so
/// the cookies are marked `Secure`.
fn secure(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

fn set(req: &HttpRequest, name: &str, value: &str, max_age: u64, http_only: bool) -> String {
    let mut cookie = format!("{name}={value}; Path=/; Max-Age={max_age}; SameSite=Strict");
    if http_only {
        cookie.push_str("; HttpOnly");
    }
    if secure(req) {
        cookie.push_str("; Secure");
    }
    cookie
}

/// The two `Set-Cookie` values that start a cookie session lasting `max_age` seconds.
pub fn start(req: &HttpRequest, session_token: &str, max_age: u64) -> [String; 2] {
    [
        set(req, SESSION, session_token, max_age, true),
        set(req, CSRF, &csrf_token(session_token), max_age, false),
    ]
}

/// The two `Set-Cookie` values that remove them.
pub fn end(req: &HttpRequest) -> [String; 2] {
    [set(req, SESSION, "", 0, true), set(req, CSRF, "", 0, false)]
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others_and_the_csrf_token_is_bound_to_it() {
        let req = TestRequest::default()
            .insert_header((
                header::COOKIE,
                "a=1; chinook_session=chk_abc; chinook_csrf=x",
            ))
            .to_http_request();
        assert_eq!(cookie(&req, SESSION).as_deref(), Some("chk_abc"));
        assert_eq!(cookie(&req, "missing"), None);
        assert_ne!(csrf_token("chk_abc"), csrf_token("chk_abd"));
        assert!(!csrf_token("chk_abc").contains("chk_abc"));

        let post = |header: Option<String>| {
            let mut req = TestRequest::post();
            if let Some(value) = header {
                req = req.insert_header((CSRF_HEADER, value));
            }
            req.to_http_request()
        };
        assert!(csrf_holds(&post(Some(csrf_token("chk_abc"))), "chk_abc"));
        assert!(!csrf_holds(&post(Some(csrf_token("chk_other"))), "chk_abc"));
        assert!(!csrf_holds(&post(None), "chk_abc"));
        assert!(csrf_holds(&TestRequest::get().to_http_request(), "chk_abc"));
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_only_over_tls() {
        let plain = TestRequest::default().to_http_request();
        let [session, csrf] = start(&plain, "chk_abc", 60);
        assert_eq!(
            session,
            "chinook_session=chk_abc; Path=/; Max-Age=60; SameSite=Strict; HttpOnly"
        );
        assert!(
            !csrf.contains("HttpOnly") && !csrf.contains("Secure"),
            "{csrf}"
        );
        let tls = TestRequest::default()
            .insert_header(("x-forwarded-proto", "https"))
            .to_http_request();
        assert!(start(&tls, "chk_abc", 60)[0].ends_with("; Secure"));
        assert!(end(&plain)[0].contains("Max-Age=0"));
    }
}
