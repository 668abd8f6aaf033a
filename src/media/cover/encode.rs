//! Making a variant's pixels and bytes: the centred square of the original, resized, put on
//! white, and encoded as lossy WebP (libwebp) or JPEG.

use anyhow::Context;
use image::imageops::FilterType;
use image::{DynamicImage, RgbImage};

use super::Format;

/// JPEG quality of the variants: visually clean at cover sizes, a few tens of kB.
const JPEG_QUALITY: u8 = 85;

/// libwebp quality of the WebP variants, with its sharp RGB-to-YUV conversion. Measured on
/// generated covers and a photograph-like image at every size
/// (`webp_is_smaller_than_jpeg_at_comparable_quality`, luma PSNR): 38 to 54 % of the JPEG's
/// bytes at quality 85 on generated covers with 0.8 to 4.7 dB more PSNR, and smaller on the
/// photograph-like image within 2 dB (both above 35 dB). A WebP raised to the JPEG's PSNR is
/// smaller than it in every case.
const WEBP_QUALITY: f32 = 85.0;

/// The variant of `image` at `size` pixels square in `format`.
pub(super) fn render(image: DynamicImage, size: u32, format: Format) -> anyhow::Result<Vec<u8>> {
    encode(&flatten(fit(image, size)), format)
}

/// The image on white: JPEG has no transparency, and a cover is shown on a page. It runs on
/// the resized variant, so it touches at most 600×600 pixels.
fn flatten(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: u8| ((u32::from(c) * u32::from(a) + 255 * (255 - u32::from(a))) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}

/// The centred square of `image`, resized to `size` with Lanczos3.
fn fit(image: DynamicImage, size: u32) -> DynamicImage {
    let (width, height) = (image.width(), image.height());
    let side = width.min(height);
    // `DynamicImage`'s methods are compiled (and optimised) in the image crate; the generic
    // `imageops::resize` would be instantiated here, unoptimised in debug builds and tests.
    let square = image.crop_imm((width - side) / 2, (height - side) / 2, side, side);
    if side == size {
        return square;
    }
    square.resize_exact(size, size, FilterType::Lanczos3)
}

fn encode(image: &RgbImage, format: Format) -> anyhow::Result<Vec<u8>> {
    match format {
        Format::Jpeg => jpeg(image, JPEG_QUALITY),
        Format::Webp => webp(image, WEBP_QUALITY),
    }
}

fn jpeg(image: &RgbImage, quality: u8) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(image)
        .context("encoding a JPEG cover")?;
    Ok(out)
}

/// Lossy WebP through libwebp: the image crate writes lossless WebP only, which is several
/// times the JPEG's size on anything but flat colour.
fn webp(image: &RgbImage, quality: f32) -> anyhow::Result<Vec<u8>> {
    let mut config = webp::WebPConfig::new()
        .map_err(|()| anyhow::anyhow!("libwebp refused its default configuration"))?;
    config.quality = quality;
    // Without it, saturated edges bleed at small sizes (4:2:0 chroma): up to 2.6 dB less
    // PSNR on a 64-pixel cover, for a few per cent fewer bytes.
    config.use_sharp_yuv = 1;
    let encoded = webp::Encoder::from_rgb(image.as_raw(), image.width(), image.height())
        .encode_advanced(&config)
        .map_err(|e| anyhow::anyhow!("encoding a WebP cover: {e:?}"))?;
    Ok(encoded.to_vec())
}

#[cfg(test)]
mod tests {
    use super::super::{art, SIZES};
    use super::*;
    use image::ImageFormat;

    /// Peak signal-to-noise ratio of `encoded` against `reference` on luma (BT.601), in dB:
    /// the usual measure in codec comparisons, and fair to WebP, which always halves chroma.
    fn psnr(reference: &RgbImage, encoded: &[u8], format: ImageFormat) -> f64 {
        let decoded = image::load_from_memory_with_format(encoded, format)
            .unwrap()
            .into_rgb8();
        assert_eq!(decoded.dimensions(), reference.dimensions());
        let luma = |p: &image::Rgb<u8>| {
            let [r, g, b] = p.0.map(f64::from);
            0.299 * r + 0.587 * g + 0.114 * b
        };
        let squared: f64 = reference
            .pixels()
            .zip(decoded.pixels())
            .map(|(a, b)| (luma(a) - luma(b)).powi(2))
            .sum();
        let mse = squared / f64::from(reference.width() * reference.height());
        10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
    }

    /// Smooth shading with fine texture and hard edges, which a flat drawing lacks.
    fn photograph_like() -> RgbImage {
        RgbImage::from_fn(900, 900, |x, y| {
            let grain =
                (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)).rotate_left(7) % 23;
            let edge = if (x / 150 + y / 150) % 2 == 0 { 40 } else { 0 };
            let r = (x * 200 / 900 + grain + edge).min(255) as u8;
            let g = ((x + y) * 120 / 1800 + grain * 2).min(255) as u8;
            let b = (255 - y * 180 / 900 + edge / 2).min(255) as u8;
            image::Rgb([r, g, b])
        })
    }

    /// Prints bytes and PSNR per size (run with `--nocapture` to see them) and holds the
    /// default to its promise: smaller than the JPEG and within a dB and a half of its PSNR;
    /// and, raised until its PSNR is at least the JPEG's, still smaller.
    #[test]
    fn webp_is_smaller_than_jpeg_at_comparable_quality() {
        let originals = [
            (
                "generated 1",
                art::render(&art::seed(1, "For Those About To Rock")),
            ),
            (
                "generated 2",
                art::render(&art::seed(2, "Balls to the Wall")),
            ),
            ("photo-like", photograph_like()),
        ];
        println!("cover       size  jpeg q85 B (dB)   webp q85 B (dB)   webp at jpeg's PSNR B (q)");
        for (name, original) in &originals {
            for size in SIZES {
                let pixels = flatten(fit(DynamicImage::ImageRgb8(original.clone()), size));
                let jpeg = encode(&pixels, Format::Jpeg).unwrap();
                let webp = encode(&pixels, Format::Webp).unwrap();
                let jpeg_psnr = psnr(&pixels, &jpeg, ImageFormat::Jpeg);
                let webp_psnr = psnr(&pixels, &webp, ImageFormat::WebP);
                let (matched, quality) = (70..=100)
                    .step_by(2)
                    .map(|q| (super::webp(&pixels, q as f32).unwrap(), q))
                    .find(|(bytes, _)| psnr(&pixels, bytes, ImageFormat::WebP) >= jpeg_psnr)
                    .expect("some WebP quality reaches the JPEG's PSNR");
                println!(
                    "{name:<11} {size:>4}  {:>6} ({jpeg_psnr:.2})   {:>6} ({webp_psnr:.2})   {:>6} ({quality})",
                    jpeg.len(),
                    webp.len(),
                    matched.len()
                );
                assert!(webp.len() < jpeg.len(), "{name} at {size}");
                assert!(
                    matched.len() < jpeg.len(),
                    "{name} at {size}, quality {quality}"
                );
            }
        }
    }
}
