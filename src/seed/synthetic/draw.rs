//! The random draws the generator makes: picks, weighted picks, normal samples, titles, people
//! and email addresses made from their names.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::vocabulary::{FIRST_NAMES, LAST_NAMES, WORDS};

pub(super) fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

pub(super) fn weighted(rng: &mut ChaCha8Rng, weights: &[(&str, u32)]) -> usize {
    let total: u32 = weights.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for (i, (_, w)) in weights.iter().enumerate() {
        if roll < *w {
            return i;
        }
        roll -= w;
    }
    weights.len() - 1
}

/// A normally distributed sample (Box–Muller), enough for durations.
pub(super) fn normal(rng: &mut ChaCha8Rng, mean: f64, sd: f64) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

pub(super) fn title(rng: &mut ChaCha8Rng, words: usize) -> String {
    (0..words)
        .map(|_| *pick(rng, WORDS))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn person(rng: &mut ChaCha8Rng) -> (String, String) {
    (
        pick(rng, FIRST_NAMES).to_string(),
        pick(rng, LAST_NAMES).to_string(),
    )
}

/// An email address from a name: accents folded, spaces dropped, made unique by `n`.
pub(super) fn email(first: &str, last: &str, n: i64, domain: &str) -> String {
    let fold = |s: &str| -> String {
        s.chars()
            .filter_map(|c| match c {
                'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' => Some('a'),
                'é' | 'è' | 'ê' | 'ë' => Some('e'),
                'í' | 'ì' | 'î' | 'ï' => Some('i'),
                'ó' | 'ò' | 'ô' | 'õ' | 'ö' | 'ø' => Some('o'),
                'ú' | 'ù' | 'û' | 'ü' => Some('u'),
                'ç' => Some('c'),
                'ñ' => Some('n'),
                'ł' => Some('l'),
                'ś' => Some('s'),
                'ý' => Some('y'),
                c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
                _ => None,
            })
            .collect()
    };
    let first = fold(&first.to_lowercase());
    let last = fold(&last.to_lowercase());
    format!("{first}.{last}{n}@{domain}")
}
