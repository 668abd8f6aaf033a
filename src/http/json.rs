//! A JSON body extractor whose errors name the offending field (`email: invalid type ...`),
//! where actix's own only gives a line and column.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ApiError;

/// A request body parsed as JSON. Size limit, content type and syntax are checked by
/// actix's `JsonConfig` (see `extractors::json_config`); the shape is checked here.
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = value.await?.into_inner();
            shaped(value).map(Json).map_err(Into::into)
        })
    }
}

/// `value` as a `T`, or a 422 naming the field that does not fit.
fn shaped<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let detail = if path == "." {
            format!("the JSON body does not fit: {}", e.inner())
        } else {
            format!("field `{path}`: {}", e.inner())
        };
        ApiError::Validation(detail)
    })
}

/// Applies a JSON merge patch (RFC 7396: objects merge field by field, `null` removes, any
/// other value replaces) to `current` and checks the result as a whole `T`. A removed
/// optional field takes its default; a removed required one is a 422 naming it.
pub fn merge_patch<T: Serialize + DeserializeOwned>(
    current: &T,
    patch: serde_json::Map<String, serde_json::Value>,
) -> Result<T, ApiError> {
    let mut merged = serde_json::to_value(current).map_err(anyhow::Error::from)?;
    merge(&mut merged, serde_json::Value::Object(patch));
    shaped(merged)
}

fn merge(target: &mut serde_json::Value, patch: serde_json::Value) {
    use serde_json::Value;
    let Value::Object(patch) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(fields) = target {
        for (key, value) in patch {
            if value.is_null() {
                fields.remove(&key);
            } else {
                merge(fields.entry(key).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::merge;

    #[test]
    fn a_merge_patch_merges_objects_removes_nulls_and_replaces_the_rest() {
        let mut target =
            json!({"name": "Metal", "meta": {"genre_id": 3, "era": "70s"}, "tags": [1, 2]});
        merge(
            &mut target,
            json!({"meta": {"era": "80s", "genre_id": null}, "tags": [3], "parent": "rock"}),
        );
        assert_eq!(
            target,
            json!({"name": "Metal", "meta": {"era": "80s"}, "tags": [3], "parent": "rock"})
        );
    }
}
