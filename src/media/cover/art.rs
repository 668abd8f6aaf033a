//! Generated cover art: a gradient with circles, rings or stripes, drawn from a hash of an
//! album's id and title. It is a pure function of those, so every instance draws the same
//! cover for an album without sharing a file, and a renamed album gets a new one.
//!
//! Only integer arithmetic is used, so the pixels are the same on every platform.

use image::RgbImage;
use sha2::{Digest, Sha256};

/// Generated covers are drawn at the largest variant size; smaller ones are resized from it.
pub const SIZE: u32 = 600;

/// Part of every generated cover's hash: bump it when the drawing changes, so variants cached
/// from the old drawing are never served for the new one.
const VERSION: &[u8] = b"chinook generated cover v1";

/// The seed of an album's generated cover, which is also its content hash.
pub fn seed(album: i64, title: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(VERSION)
        .chain_update(album.to_le_bytes())
        .chain_update(title.as_bytes())
        .finalize()
        .into()
}

/// A colour from a hue (0..360), saturation and value (0..=255).
fn hsv(hue: u32, saturation: u32, value: u32) -> [i32; 3] {
    let hue = hue % 360;
    let region = hue / 60;
    let remainder = (hue % 60) * 255 / 60;
    let p = value * (255 - saturation) / 255;
    let q = value * (255 - saturation * remainder / 255) / 255;
    let t = value * (255 - saturation * (255 - remainder) / 255) / 255;
    let (r, g, b) = match region {
        0 => (value, t, p),
        1 => (q, value, p),
        2 => (p, value, t),
        3 => (p, q, value),
        4 => (t, p, value),
        _ => (value, p, q),
    };
    [r as i32, g as i32, b as i32]
}

/// Gradient directions, as integer vectors so no trigonometry is needed.
const DIRECTIONS: [(i32, i32); 8] = [
    (1, 0),
    (1, 1),
    (0, 1),
    (-1, 1),
    (2, 1),
    (1, 2),
    (-1, 2),
    (-2, 1),
];

struct Shape {
    x: i32,
    y: i32,
    radius: i32,
    colour: [i32; 3],
    /// Out of 256.
    alpha: i32,
}

/// Draws the cover of `seed` (see [`seed`]) at `SIZE`×`SIZE`.
pub fn render(seed: &[u8; 32]) -> RgbImage {
    let byte = |i: usize| u32::from(seed[i % seed.len()]);
    let size = SIZE as i32;
    let hue = byte(0) * 360 / 256;
    // Analogous or complementary: the second colour is 40..220 degrees around the wheel.
    let from = hsv(hue, 150 + byte(1) % 100, 120 + byte(2) % 120);
    let to = hsv(
        hue + 40 + byte(3) * 180 / 256,
        120 + byte(4) % 120,
        60 + byte(5) % 120,
    );
    let (dx, dy) = DIRECTIONS[(byte(6) % 8) as usize];
    // The extremes of x*dx + y*dy over the square, so the gradient spans it exactly.
    let corners = [0, dx * (size - 1), dy * (size - 1), (dx + dy) * (size - 1)];
    let low = corners.iter().copied().min().unwrap_or(0);
    let span = (corners.iter().copied().max().unwrap_or(1) - low).max(1);

    let style = byte(7) % 3;
    let accent = hsv(hue + 180, 60 + byte(8) % 150, 200 + byte(9) % 56);
    let shapes: Vec<Shape> = (0..3 + byte(10) as usize % 4)
        .map(|i| {
            let at = 11 + i * 3;
            Shape {
                x: (byte(at) * SIZE / 256) as i32,
                y: (byte(at + 1) * SIZE / 256) as i32,
                radius: (40 + byte(at + 2) * 220 / 256) as i32,
                colour: if i % 2 == 0 {
                    accent
                } else {
                    hsv(hue + byte(at) * 2, 80, 250)
                },
                alpha: 70 + (byte(at + 2) % 110) as i32,
            }
        })
        .collect();
    let ring = 6 + (byte(30) % 18) as i32;
    let stripe = 20 + (byte(31) % 40) as i32;

    // Row by row, and each shape only over the span of the row it covers: this runs in
    // tests and debug builds too, where a per-pixel test of every shape is slow.
    let width = SIZE as usize;
    let mut pixels = vec![0u8; width * width * 3];
    for (y, row) in pixels.chunks_exact_mut(width * 3).enumerate() {
        let y = y as i32;
        for (x, pixel) in row.chunks_exact_mut(3).enumerate() {
            let t = (x as i32 * dx + y * dy - low) * 256 / span;
            for c in 0..3 {
                pixel[c] = (from[c] + (to[c] - from[c]) * t / 256).clamp(0, 255) as u8;
            }
        }
        for shape in &shapes {
            let rows_away = y - shape.y;
            let half = |radius: i32| {
                let left = radius * radius - rows_away * rows_away;
                (left >= 0).then(|| isqrt(left))
            };
            let Some(outer) = half(shape.radius + if style == 1 { ring } else { 0 }) else {
                continue;
            };
            // Rings leave out the inner disc: x within `inner` of the centre.
            let inner = if style == 1 {
                half(shape.radius - ring)
            } else {
                None
            };
            let first = (shape.x - outer).max(0);
            let last = (shape.x + outer).min(size - 1);
            for x in first..=last {
                if inner.is_some_and(|inner| (x - shape.x).abs() <= inner) {
                    continue;
                }
                if style == 2 && (x + y + shape.x).rem_euclid(stripe * 2) >= stripe {
                    continue;
                }
                let at = x as usize * 3;
                for c in 0..3 {
                    let channel = i32::from(row[at + c]);
                    let blended = channel + (shape.colour[c] - channel) * shape.alpha / 256;
                    row[at + c] = blended.clamp(0, 255) as u8;
                }
            }
        }
    }
    RgbImage::from_raw(SIZE, SIZE, pixels).unwrap_or_else(|| RgbImage::new(SIZE, SIZE))
}

/// The integer square root, exactly (no floating point, so every platform agrees).
fn isqrt(n: i32) -> i32 {
    let mut root = 0i32;
    let mut bit = 1i32 << 30;
    let mut n = n;
    while bit > n {
        bit >>= 2;
    }
    while bit != 0 {
        if n >= root + bit {
            n -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_album_always_gets_the_same_cover_and_others_differ() {
        let one = render(&seed(1, "For Those About To Rock We Salute You"));
        let again = render(&seed(1, "For Those About To Rock We Salute You"));
        let renamed = render(&seed(1, "Balls to the Wall"));
        let other = render(&seed(2, "For Those About To Rock We Salute You"));
        assert_eq!(one.as_raw(), again.as_raw());
        assert_ne!(one.as_raw(), renamed.as_raw());
        assert_ne!(one.as_raw(), other.as_raw());
        assert_eq!(one.dimensions(), (SIZE, SIZE));
    }

    #[test]
    fn integer_square_roots_are_exact() {
        for n in [0, 1, 2, 3, 4, 15, 16, 17, 99, 100, 67_600, 1 << 30] {
            let root = isqrt(n);
            assert!(
                root * root <= n && (root + 1) * (root + 1) > n,
                "isqrt({n}) = {root}"
            );
        }
    }
}
