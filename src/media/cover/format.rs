//! What a cover request may ask for: the formats, negotiated from `Accept` or named, and the
//! sizes offered.

use super::{DEFAULT_SIZE, SIZES};
use crate::error::{ApiError, ApiResult};

/// The formats a variant is encoded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Webp,
    Jpeg,
}

impl Format {
    pub const ALL: [Format; 2] = [Format::Webp, Format::Jpeg];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "webp" => Some(Self::Webp),
            "jpeg" | "jpg" => Some(Self::Jpeg),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Webp => "webp",
            Self::Jpeg => "jpeg",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Webp => "image/webp",
            Self::Jpeg => "image/jpeg",
        }
    }

    pub(super) fn extension(self) -> &'static str {
        match self {
            Self::Webp => "webp",
            Self::Jpeg => "jpg",
        }
    }

    /// The format for a request's `Accept`. WebP is the default: it is the smaller at
    /// comparable quality, and every current browser names it. So a request without
    /// `Accept` (any type will do, RFC 9110 §12.5.1) or naming `image/webp` at a quality at
    /// least JPEG's gets WebP. JPEG goes to a client that asks for it over WebP, and to one
    /// that sends only wildcards (`*/*`, `image/*`): old clients send those without being
    /// able to decode WebP. One that accepts neither gets the default; the type is in
    /// `Content-Type`.
    pub fn negotiate(accept: Option<&str>) -> Self {
        let accept = accept.unwrap_or_default();
        if accept.trim().is_empty() {
            return Self::Webp;
        }
        // The highest quality given to each by name, and to the wildcards; a named type's
        // own quality wins over a wildcard's (RFC 9110: the most specific range applies).
        let (mut webp, mut jpeg, mut wildcard) = (None::<f32>, None::<f32>, None::<f32>);
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|param| {
                    let param = param.trim().replace(' ', "");
                    param
                        .strip_prefix("q=")
                        .map(|q| q.parse::<f32>().unwrap_or(0.0))
                })
                .next()
                .unwrap_or(1.0);
            let slot = match media.as_str() {
                "image/webp" => &mut webp,
                "image/jpeg" => &mut jpeg,
                "image/*" | "*/*" => &mut wildcard,
                _ => continue,
            };
            *slot = Some(slot.map_or(quality, |q: f32| q.max(quality)));
        }
        let jpeg = jpeg.or(wildcard);
        match (webp.filter(|q| *q > 0.0), jpeg.filter(|q| *q > 0.0)) {
            (Some(webp), Some(jpeg)) if jpeg > webp => Self::Jpeg,
            (None, Some(_)) => Self::Jpeg,
            _ => Self::Webp,
        }
    }
}

/// `size` as a request gave it: one of `SIZES`, or a 400 naming them.
pub fn parse_size(raw: Option<&str>) -> ApiResult<u32> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_SIZE);
    };
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|size| SIZES.contains(size))
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "size `{raw}` is not offered: use one of 64, 128, 300 or 600"
            ))
        })
}

/// `format` as a request gave it, or a 400 naming the formats offered.
pub fn parse_format(raw: &str) -> ApiResult<Format> {
    Format::parse(raw).ok_or_else(|| {
        ApiError::BadRequest(format!("format `{raw}` is not offered: use webp or jpeg"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webp_is_the_default_and_jpeg_goes_to_those_who_prefer_it_or_only_send_wildcards() {
        assert_eq!(Format::negotiate(None), Format::Webp);
        assert_eq!(Format::negotiate(Some("")), Format::Webp);
        assert_eq!(Format::negotiate(Some("image/png")), Format::Webp);
        assert_eq!(Format::negotiate(Some("*/*")), Format::Jpeg);
        assert_eq!(Format::negotiate(Some("image/*")), Format::Jpeg);
        assert_eq!(Format::negotiate(Some("image/jpeg")), Format::Jpeg);
        // Chromium's and Firefox's `Accept` for images.
        assert_eq!(
            Format::negotiate(Some(
                "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
            )),
            Format::Webp
        );
        assert_eq!(
            Format::negotiate(Some("image/avif,image/webp,*/*")),
            Format::Webp
        );
        assert_eq!(Format::negotiate(Some("image/WebP; q=0.5")), Format::Webp);
        assert_eq!(
            Format::negotiate(Some("image/webp;q=0.5, image/jpeg")),
            Format::Jpeg
        );
        assert_eq!(
            Format::negotiate(Some("image/webp;q=0, image/jpeg")),
            Format::Jpeg
        );
        assert_eq!(Format::negotiate(Some("image/webp;q=0, */*")), Format::Jpeg);
        assert_eq!(
            Format::negotiate(Some("image/jpeg;q=0, */*;q=0.5, image/webp;q=0.1")),
            Format::Webp
        );
    }

    #[test]
    fn sizes_and_formats_outside_the_offer_are_refused_by_name() {
        assert_eq!(parse_size(None).unwrap(), DEFAULT_SIZE);
        assert_eq!(parse_size(Some("128")).unwrap(), 128);
        for bad in ["100", "0", "-64", "big", "600px"] {
            let err = parse_size(Some(bad)).unwrap_err().to_string();
            assert!(err.contains("64, 128, 300 or 600"), "{err}");
        }
        assert_eq!(parse_format("JPEG").unwrap(), Format::Jpeg);
        let err = parse_format("png").unwrap_err().to_string();
        assert!(err.contains("webp or jpeg"), "{err}");
    }
}
