//! A Subsonic request's parameters: the query string and, for a POST, the form body, merged
//! in that order. Names may repeat (`id=1&id=2`); typed readers say which parameter is
//! missing (code 10) or malformed (code 0).

use std::str::FromStr;

use super::Failure;

#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// From `application/x-www-form-urlencoded` sources, in order.
    pub fn parse(sources: &[&[u8]]) -> Self {
        let pairs = sources
            .iter()
            .flat_map(|source| url::form_urlencoded::parse(source).into_owned())
            .collect();
        Self { pairs }
    }

    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn required(&self, name: &str) -> Result<&str, Failure> {
        self.get(name).ok_or_else(|| Failure::missing(name))
    }

    /// A number, when given; malformed is code 0 naming the parameter.
    pub fn number<T: FromStr>(&self, name: &str) -> Result<Option<T>, Failure> {
        self.get(name)
            .map(|raw| {
                raw.trim()
                    .parse::<T>()
                    .map_err(|_| Failure::generic(format!("{name} must be a number, not `{raw}`")))
            })
            .transpose()
    }

    /// A number within `min..=max`, or `default` when absent.
    pub fn bounded(&self, name: &str, default: u64, min: u64, max: u64) -> Result<u64, Failure> {
        let value = self.number::<u64>(name)?.unwrap_or(default);
        if value < min || value > max {
            return Err(Failure::generic(format!(
                "{name} must be between {min} and {max}, not {value}"
            )));
        }
        Ok(value)
    }

    pub fn flag(&self, name: &str) -> Result<Option<bool>, Failure> {
        match self.get(name).map(str::trim) {
            None => Ok(None),
            Some("true") | Some("1") => Ok(Some(true)),
            Some("false") | Some("0") => Ok(Some(false)),
            Some(other) => Err(Failure::generic(format!(
                "{name} must be true or false, not `{other}`"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Params;

    #[test]
    fn query_and_form_merge_and_repeat() {
        let params = Params::parse(&[b"id=1&u=a%40b.com", b"id=2&size=x"]);
        assert_eq!(params.all("id"), vec!["1", "2"]);
        assert_eq!(params.get("u"), Some("a@b.com"));
        assert_eq!(params.required("v").unwrap_err().code, 10);
        assert_eq!(params.number::<u64>("size").unwrap_err().code, 0);
        assert_eq!(params.bounded("count", 10, 1, 500).unwrap(), 10);
    }
}
