//! Email addresses as identities: one canonical form per mailbox, and nothing that looks like
//! another address. An address is trimmed, NFKC-normalized (fullwidth letters and `ſ` become
//! ASCII) and lower-cased; its local part must then be a plain ASCII dot-atom (no quotes, no
//! invisible characters), and its domain a DNS name, stored in its IDNA ASCII form (no IP
//! literals), whose non-ASCII labels are in one script and do not merely look like ASCII
//! (`exаmple` with a Cyrillic `а` is refused, as is an all-Cyrillic `аррӏе`).
//!
//! Beyond one address on its own, a new address must not look like one already registered:
//! their UTS #39 skeletons (`skeleton`) may not be equal, so `rn` cannot pass for `m`, nor
//! `1` for `l` or `0` for `o`. The skeleton is kept in a column with a unique index.

use unicode_normalization::UnicodeNormalization;
use unicode_security::{RestrictionLevel, RestrictionLevelDetection};

use crate::text::invisible;

const MAX_CHARS: usize = 254;
const MAX_LOCAL: usize = 64;

/// The folding every address goes through, for sign-up and sign-in alike.
fn fold(raw: &str) -> String {
    raw.trim().nfkc().collect::<String>().to_lowercase()
}

/// The address a sign-in names, folded like a sign-up's; `None` when it cannot be one. An
/// account made before these rules keeps signing in with its address as it was stored
/// (trimmed and lower-cased).
pub fn for_login(raw: &str) -> Option<String> {
    normalize(raw).ok().or_else(|| {
        let stored = raw.trim().to_lowercase();
        (!stored.is_empty() && !stored.chars().any(char::is_control)).then_some(stored)
    })
}

/// The canonical form of a new address, or what is wrong with it.
pub fn normalize(raw: &str) -> Result<String, String> {
    if raw.trim().is_empty() {
        return Err("email is required".into());
    }
    if raw.chars().any(|c| c.is_control() || invisible(c)) {
        return Err("email must not contain control or invisible characters".into());
    }
    let email = fold(raw);
    if email.chars().count() > MAX_CHARS {
        return Err(format!("email has more than {MAX_CHARS} characters"));
    }
    if email.starts_with('"') {
        return Err("a quoted local part (\"...\"@) is not accepted: use a plain address".into());
    }
    if email.chars().any(char::is_whitespace) {
        return Err("email must not contain spaces".into());
    }
    let not_plain = || format!("`{raw}` is not a plain email address like name@example.com");
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err(format!("`{raw}` is not an email address (no @)"));
    };
    if local.contains('"') {
        return Err("a quoted local part (\"...\"@) is not accepted: use a plain address".into());
    }
    check_local(local).map_err(|why| format!("{}: {why}", not_plain()))?;
    if domain.starts_with('[') {
        return Err("an IP-address domain (user@[...]) is not accepted: use a domain name".into());
    }
    let domain = check_domain(domain).map_err(|why| format!("{}: {why}", not_plain()))?;
    Ok(format!("{local}@{domain}"))
}

fn check_local(local: &str) -> Result<(), String> {
    const SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";
    if local.is_empty() || local.len() > MAX_LOCAL {
        return Err(format!("the part before @ has 1 to {MAX_LOCAL} characters"));
    }
    if !local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || SPECIALS.contains(c))
    {
        return Err(format!(
            "the part before @ may hold only ASCII letters, digits, dots and {SPECIALS}"
        ));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(
            "the part before @ may not start or end with a dot, or have two in a row".into(),
        );
    }
    Ok(())
}

/// What an address looks like: the UTS #39 skeleton of its local part and of its domain in
/// Unicode, lower-cased (the skeleton of `0` is `O`, and addresses are compared lower-case)
/// and composed again (a skeleton is decomposed).
/// Two addresses a reader could take for each other have the same one.
pub fn skeleton(email: &str) -> String {
    let (local, domain) = email.rsplit_once('@').unwrap_or((email, ""));
    let (domain, _) = idna::domain_to_unicode(domain);
    let looks: String = unicode_security::skeleton(local)
        .chain(std::iter::once('@'))
        .chain(unicode_security::skeleton(&domain))
        .collect();
    looks.nfc().collect::<String>().to_lowercase()
}

/// The domain in its IDNA ASCII form.
fn check_domain(domain: &str) -> Result<String, String> {
    let ascii = idna::domain_to_ascii_strict(domain)
        .map_err(|_| "the domain is not a valid domain name".to_string())?;
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.len() < 2 {
        return Err("the domain needs a dot, as in example.com".into());
    }
    for label in &labels {
        let ldh = label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if label.is_empty()
            || label.len() > 63
            || !ldh
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return Err(format!("the domain label `{label}` is not valid"));
        }
    }
    if labels
        .last()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err("an IP-address domain is not accepted: use a domain name".into());
    }
    let (unicode, _) = idna::domain_to_unicode(&ascii);
    for label in unicode.split('.').filter(|l| !l.is_ascii()) {
        if label.detect_restriction_level() > RestrictionLevel::HighlyRestrictive {
            return Err(format!(
                "the domain label `{label}` mixes scripts (as a Cyrillic а among Latin letters does)"
            ));
        }
        let looks_like: String = unicode_security::skeleton(label).collect();
        if looks_like.is_ascii() {
            return Err(format!(
                "the domain label `{label}` looks like the ASCII `{looks_like}` but is not"
            ));
        }
    }
    Ok(ascii)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn addresses_fold_to_one_canonical_form() {
        assert_eq!(normalize("  Ada@Example.COM ").unwrap(), "ada@example.com");
        assert_eq!(
            normalize("ａｄａ@ｅｘａｍｐｌｅ.ｃｏｍ").unwrap(),
            "ada@example.com"
        );
        assert_eq!(normalize("ſam@example.com").unwrap(), "sam@example.com");
        assert_eq!(normalize("ada@bücher.de").unwrap(), "ada@xn--bcher-kva.de");
        assert_eq!(
            normalize("first.last+tag@mail.example.org").unwrap(),
            "first.last+tag@mail.example.org"
        );
    }

    #[test]
    fn look_alike_addresses_share_a_skeleton_and_different_ones_do_not() {
        use super::skeleton;
        for (one, other) in [
            ("mary@example.com", "rnary@example.com"),
            ("bill@example.com", "bi11@example.com"),
            ("bob@example.com", "b0b@example.com"),
            ("ada@example.com", "ada@exarnple.com"),
        ] {
            let (a, b) = (normalize(one).unwrap(), normalize(other).unwrap());
            assert_eq!(skeleton(&a), skeleton(&b), "{one} and {other}");
        }
        for (one, other) in [
            ("mary@example.com", "mark@example.com"),
            ("ada@example.com", "ada@example.org"),
            ("ada@example.com", "ad@example.com"),
        ] {
            assert_ne!(skeleton(one), skeleton(other), "{one} and {other}");
        }
        // An IDNA domain is compared as it reads, not as its punycode.
        let idn = normalize("ada@bücher.de").unwrap();
        assert!(skeleton(&idn).ends_with("@bücher.de"), "{}", skeleton(&idn));
    }

    #[test]
    fn what_is_not_a_plain_mailbox_is_refused_and_says_why() {
        for (bad, why) in [
            ("ada\u{200B}@example.com", "invisible"),
            ("ada@ex\u{0430}mple.com", "mixes scripts"),
            (
                "ada@\u{0430}\u{0440}\u{0440}\u{04CF}\u{0435}.com",
                "looks like",
            ),
            ("\"ada lovelace\"@example.com", "quoted"),
            ("ada@[192.0.2.1]", "IP-address"),
            ("ada@192.0.2.1", "IP-address"),
            ("", "required"),
            ("plain", "no @"),
            ("@example.com", "before @"),
            ("a@b", "needs a dot"),
            ("a..b@example.com", "two in a row"),
            ("a b@c.com", "spaces"),
            ("ådå@example.com", "ASCII"),
        ] {
            let refused = normalize(bad).expect_err(bad);
            assert!(refused.contains(why), "{bad:?}: {refused}");
        }
        assert!(normalize(&format!("{}@example.com", "a".repeat(250))).is_err());
    }
}
