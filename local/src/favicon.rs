//! `/favicon.ico`, in demo and configured mode alike: every browser asks for it on its own
//! for each site it shows, and a 404 there is a failed request in its console. The icon is
//! drawn here (a white "W" on WeChat green, 32×32) and encoded as an ICO with one 32-bit
//! bitmap, so there is no binary file to review.

use std::sync::LazyLock;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};

const SIZE: usize = 32;
/// WeChat green, #07c160, as (red, green, blue).
const GREEN: (u8, u8, u8) = (0x07, 0xc1, 0x60);

static ICON: LazyLock<Vec<u8>> = LazyLock::new(encode_ico);

pub(crate) async fn favicon() -> Response {
    let mut response = ICON.as_slice().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/x-icon"),
    );
    // The icon never carries anything personal, and browsers ask for it on every page.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The pixel at (`x`, `y`), counted from the top left, as (red, green, blue, alpha).
fn pixel(x: usize, y: usize) -> (u8, u8, u8, u8) {
    // Sample at the pixel's centre.
    let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
    let half = SIZE as f32 / 2.0;
    // A rounded square: distance outside a square of half-side 16 - 7 with corner radius 7.
    let radius = 7.0;
    let qx = ((px - half).abs() - (half - radius)).max(0.0);
    let qy = ((py - half).abs() - (half - radius)).max(0.0);
    let outside = (qx * qx + qy * qy).sqrt() - radius;
    let alpha = coverage(outside);
    if alpha == 0.0 {
        return (0, 0, 0, 0);
    }
    // The "W": a polyline of four strokes, 2.6 px wide.
    let w = [
        (7.5, 9.5),
        (11.8, 23.0),
        (16.0, 13.0),
        (20.2, 23.0),
        (24.5, 9.5),
    ];
    let nearest = w
        .windows(2)
        .map(|pair| segment_distance((px, py), pair[0], pair[1]))
        .fold(f32::INFINITY, f32::min);
    let white = coverage(nearest - 1.3);
    let mix = |from: u8| (f32::from(from) + (255.0 - f32::from(from)) * white).round() as u8;
    (
        mix(GREEN.0),
        mix(GREEN.1),
        mix(GREEN.2),
        (alpha * 255.0).round() as u8,
    )
}

/// How much of a pixel a shape covers, from the signed distance of its centre to the
/// shape's edge (negative inside): a one-pixel ramp for smooth edges.
fn coverage(distance: f32) -> f32 {
    (0.5 - distance).clamp(0.0, 1.0)
}

fn segment_distance(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    let (abx, aby) = (b.0 - a.0, b.1 - a.1);
    let t = (((p.0 - a.0) * abx + (p.1 - a.1) * aby) / (abx * abx + aby * aby)).clamp(0.0, 1.0);
    let (dx, dy) = (p.0 - (a.0 + t * abx), p.1 - (a.1 + t * aby));
    (dx * dx + dy * dy).sqrt()
}

/// One image in an ICO container: ICONDIR, one ICONDIRENTRY, then a BMP without its file
/// header (BITMAPINFOHEADER with the height doubled for the AND mask, BGRA rows bottom-up,
/// then the 1-bit AND mask, all zero: the alpha channel decides).
fn encode_ico() -> Vec<u8> {
    const HEADERS: usize = 6 + 16;
    const INFO: usize = 40;
    let pixels = SIZE * SIZE * 4;
    // Mask rows are padded to 4 bytes.
    let mask = SIZE.div_ceil(32) * 4 * SIZE;
    let image = INFO + pixels + mask;

    let mut out = Vec::with_capacity(HEADERS + image);
    let u16le = |out: &mut Vec<u8>, v: u16| out.extend_from_slice(&v.to_le_bytes());
    let u32le = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&v.to_le_bytes());
    let size = u32::try_from(SIZE).expect("small");
    // ICONDIR: reserved, type 1 (icon), one image.
    u16le(&mut out, 0);
    u16le(&mut out, 1);
    u16le(&mut out, 1);
    // ICONDIRENTRY: width, height, no palette, reserved, planes, bits per pixel, size, offset.
    out.extend_from_slice(&[SIZE as u8, SIZE as u8, 0, 0]);
    u16le(&mut out, 1);
    u16le(&mut out, 32);
    u32le(&mut out, u32::try_from(image).expect("small"));
    u32le(&mut out, u32::try_from(HEADERS).expect("small"));
    // BITMAPINFOHEADER.
    u32le(&mut out, u32::try_from(INFO).expect("small"));
    u32le(&mut out, size);
    u32le(&mut out, size * 2);
    u16le(&mut out, 1);
    u16le(&mut out, 32);
    u32le(&mut out, 0); // BI_RGB
    u32le(&mut out, u32::try_from(pixels + mask).expect("small"));
    out.extend_from_slice(&[0; 16]); // resolution and palette counts: unused
    for y in (0..SIZE).rev() {
        for x in 0..SIZE {
            let (r, g, b, a) = pixel(x, y);
            out.extend_from_slice(&[b, g, r, a]);
        }
    }
    out.resize(out.len() + mask, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_icon_is_one_32_bit_image_in_an_ico_container() {
        let ico = encode_ico();
        assert_eq!(ico.len(), 22 + 40 + 32 * 32 * 4 + 32 * 4);
        assert_eq!(
            &ico[..6],
            &[0, 0, 1, 0, 1, 0],
            "ICONDIR: an icon, one image"
        );
        assert_eq!(&ico[6..10], &[32, 32, 0, 0]);
        let u32_at = |at: usize| u32::from_le_bytes(ico[at..at + 4].try_into().unwrap());
        assert_eq!(u32_at(14) as usize, ico.len() - 22, "the image's size");
        assert_eq!(u32_at(18), 22, "the image's offset");
        assert_eq!((u32_at(22), u32_at(26), u32_at(30)), (40, 32, 64));
    }

    #[test]
    fn corners_are_transparent_the_square_green_and_the_w_white() {
        assert_eq!(pixel(0, 0).3, 0);
        assert_eq!(pixel(31, 31).3, 0);
        assert_eq!(pixel(2, 16), (GREEN.0, GREEN.1, GREEN.2, 255));
        // On the W's first stroke, about a third of the way down.
        assert_eq!(pixel(9, 14), (255, 255, 255, 255));
    }
}
