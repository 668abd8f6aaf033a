//! Counts and times every request by its route pattern (`/api/v1/tracks/{id}`), never by
//! its raw path: ids, and whatever a scanner makes up, would each start a series of their
//! own. Requests that match no route share the one label `unmatched`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::state::AppState;

/// Paths whose route pattern each worker remembers, before it forgets them all and starts
/// again: finding a pattern tries the route table's patterns in turn, and most traffic
/// repeats a few paths (probes, the front page's lists).
const REMEMBERED_PATHS: usize = 1024;

/// `req`'s route pattern, remembered per worker thread by path.
fn route_of(req: &ServiceRequest) -> Option<Rc<str>> {
    thread_local! {
        static ROUTES: RefCell<HashMap<String, Option<Rc<str>>>> = RefCell::new(HashMap::new());
    }
    ROUTES.with(|routes| {
        if let Some(route) = routes.borrow().get(req.path()) {
            return route.clone();
        }
        let route: Option<Rc<str>> = req.match_pattern().map(Rc::from);
        let mut routes = routes.borrow_mut();
        if routes.len() >= REMEMBERED_PATHS {
            routes.clear();
        }
        routes.insert(req.path().to_string(), route.clone());
        route
    })
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await;
    };
    // The pattern comes from the path alone, so it is known before routing.
    let route = route_of(&req);
    let method = req.method().clone();
    let result = crate::db::during_request(next.call(req)).await;
    let status = match &result {
        Ok(response) => response.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    state
        .metrics
        .observe_request(method.as_str(), route.as_deref(), status.as_u16(), started);
    result
}
