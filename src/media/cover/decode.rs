//! Upload validation for covers: what kind of image an upload is, checked from its header
//! under the configured limits, then decoded completely so that nothing cut or corrupt is
//! stored.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader};

use super::Limits;
use crate::error::{ApiError, ApiResult};

/// Why an upload is refused.
fn unsupported() -> ApiError {
    ApiError::UnsupportedMediaType(
        "the upload is not an image this store takes: send a PNG, JPEG or WebP file".into(),
    )
}

/// Decodes an upload under `limits`, checking its declared size from the header first.
/// Every failure is the client's: 415 for what is not a PNG, JPEG or WebP at all, 422 for
/// one that is too large, truncated or corrupt.
pub(super) fn decode(bytes: &[u8], limits: Limits) -> ApiResult<(DynamicImage, ImageFormat)> {
    // `bounded` off reads the header only: its width and height are checked here, so the
    // error can say what the image declared.
    let reader = |bounded: bool| -> ApiResult<ImageReader<Cursor<&[u8]>>> {
        let mut reader = ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| ApiError::Validation(format!("the image cannot be read: {e}")))?;
        match reader.format() {
            Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP) => {}
            _ => return Err(unsupported()),
        }
        let mut decoder_limits = limits.decoder_limits();
        if !bounded {
            decoder_limits.max_image_width = None;
            decoder_limits.max_image_height = None;
        }
        reader.limits(decoder_limits);
        Ok(reader)
    };
    let header = reader(false)?;
    let kind = header.format().ok_or_else(unsupported)?;
    let format = match kind {
        ImageFormat::Png => "PNG",
        ImageFormat::Jpeg => "JPEG",
        _ => "WebP",
    };
    let invalid = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => ApiError::Validation(format!(
            "the {format} needs more than the {} bytes of memory covers may take to decode",
            limits.max_alloc
        )),
        image::ImageError::Unsupported(e) => ApiError::UnsupportedMediaType(format!(
            "this {format} uses a feature the store cannot decode: {e}"
        )),
        other => ApiError::Validation(format!("the {format} is truncated or corrupt: {other}")),
    };
    let (width, height) = header.into_dimensions().map_err(invalid)?;
    let max = limits.max_dimension;
    if width > max || height > max {
        return Err(ApiError::Validation(format!(
            "the {format} declares {width}×{height} pixels, but covers may be at most {max}×{max}"
        )));
    }
    if width == 0 || height == 0 {
        return Err(ApiError::Validation(format!("the {format} has no pixels")));
    }
    if kind == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(ApiError::Validation(
            "the JPEG is truncated: no end-of-image marker follows its last scan".into(),
        ));
    }
    if kind == ImageFormat::Jpeg {
        jpeg_decodes_strictly(bytes, max)
            .map_err(|e| ApiError::Validation(format!("the JPEG is truncated or corrupt: {e}")))?;
    }
    let image = reader(true)?.decode().map_err(invalid)?;
    Ok((image, kind))
}

/// Whether the JPEG's scan data is all there. Decoders (the image crate's, zune-jpeg even in
/// its strict mode, libjpeg-turbo) take an end-of-image marker inside a scan as "no more
/// data" and fill the rest with zero bits, so a cut file with `FFD9` stuck on decodes
/// without an error. But a whole scan is never read past: decoding again with filler bytes
/// before that marker gives the same pixels, while a cut one reads the filler instead of
/// zeros and comes out different. Dimensions were checked from the header already.
fn jpeg_decodes_strictly(bytes: &[u8], max_dimension: u32) -> Result<(), String> {
    let pixels = |data: &[u8]| {
        let options = zune_core::options::DecoderOptions::default()
            .set_max_width(max_dimension as usize)
            .set_max_height(max_dimension as usize);
        zune_jpeg::JpegDecoder::new_with_options(Cursor::new(data), options)
            .decode()
            .map_err(|e| e.to_string())
    };
    let end = bytes
        .windows(2)
        .rposition(|pair| pair == [0xFF, 0xD9])
        .ok_or("no end-of-image marker")?;
    let mut filled = Vec::with_capacity(bytes.len() + FILLER);
    filled.extend_from_slice(&bytes[..end]);
    filled.extend(std::iter::repeat_n(0xA5, FILLER));
    filled.extend_from_slice(&bytes[end..]);
    if pixels(bytes)? != pixels(&filled)? {
        return Err("its scan data ends before the image does".into());
    }
    Ok(())
}

/// Filler bytes for `jpeg_decodes_strictly`: enough bits for a few blocks.
const FILLER: usize = 256;

/// Whether the JPEG's last scan is followed by its end-of-image marker. The decoder fills in
/// what a truncated JPEG lacks with grey rather than failing, so this is checked apart.
/// Inside scan data a 0xFF byte is always followed by 0x00 or a restart marker, so neither
/// marker can appear there by chance.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last = |marker: u8| bytes.windows(2).rposition(|pair| pair == [0xFF, marker]);
    match (last(0xDA), last(0xD9)) {
        (Some(scan), Some(end)) => end > scan,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::RgbImage;

    #[test]
    fn a_whole_jpeg_decodes_strictly_and_a_cut_one_with_its_end_marker_stuck_on_does_not() {
        let noisy = RgbImage::from_fn(300, 200, |x, y| {
            let v = (x * 7 + y * 13 + (x * y) % 17) as u8;
            image::Rgb([v, v.wrapping_mul(3), 255 - v])
        });
        let mut jpeg = Vec::new();
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85);
        noisy.write_with_encoder(encoder).unwrap();
        assert_eq!(jpeg_decodes_strictly(&jpeg, 4096), Ok(()));
        for cut in [
            jpeg.len() / 3,
            jpeg.len() / 2,
            jpeg.len() - 40,
            jpeg.len() - 4,
        ] {
            let mut patched = jpeg[..cut].to_vec();
            patched.extend_from_slice(&[0xFF, 0xD9]);
            assert!(jpeg_decodes_strictly(&patched, 4096).is_err(), "{cut}");
        }
    }
}
