//! The QR code stand-in on the QR login page: a 21×21 grid (QR version 1's size)
//! with the three finder squares and the rest filled from a hash of the request, so
//! every login shows its own pattern. Nothing scans it; the page's buttons play the
//! phone. Drawn as inline SVG so the page needs no network and no script.

use sha2::{Digest, Sha256};

const MODULES: usize = 21;
const QUIET: usize = 2;
const FINDER: usize = 7;

/// The corner squares' top-left modules: top-left, top-right, bottom-left, as in QR.
const FINDERS: [(usize, usize); 3] = [(0, 0), (MODULES - FINDER, 0), (0, MODULES - FINDER)];

/// Whether (x, y) lies in a finder square or its one-module light separator; `Some(dark)`.
fn finder_module(x: usize, y: usize) -> Option<bool> {
    FINDERS.iter().find_map(|&(fx, fy)| {
        // One extra module of separator around each square, clipped at the grid's edge.
        let inside = |v: usize, f: usize| v + 1 >= f && v <= f + FINDER;
        if !(inside(x, fx) && inside(y, fy)) {
            return None;
        }
        let (dx, dy) = (x as isize - fx as isize, y as isize - fy as isize);
        let ring = dx.min(dy).min(6 - dx).min(6 - dy);
        // ring < 0: separator; 0: dark border; 1: light ring; 2+: dark 3×3 centre.
        Some(ring == 0 || ring >= 2)
    })
}

/// An inline `<svg>` whose pattern is derived from `seed`.
pub(crate) fn svg(seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    // 441 modules less 3 × 64 finder/separator modules leaves 249 ≤ 256 digest bits.
    let mut bits = digest
        .iter()
        .flat_map(|byte| (0..8).map(move |i| (byte >> i) & 1 == 1));
    let mut path = String::new();
    for y in 0..MODULES {
        for x in 0..MODULES {
            let dark = finder_module(x, y).unwrap_or_else(|| bits.next().unwrap_or(false));
            if dark {
                path.push_str(&format!("M{} {}h1v1h-1z", x + QUIET, y + QUIET));
            }
        }
    }
    let size = MODULES + 2 * QUIET;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"二维码（模拟） QR code (simulated)\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#111\"/></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finder_squares_have_a_dark_border_light_ring_and_dark_centre() {
        assert_eq!(finder_module(0, 0), Some(true));
        assert_eq!(finder_module(1, 1), Some(false));
        assert_eq!(finder_module(3, 3), Some(true));
        assert_eq!(finder_module(7, 3), Some(false));
        assert_eq!(finder_module(20, 0), Some(true));
        assert_eq!(finder_module(13, 0), Some(false));
        assert_eq!(finder_module(0, 20), Some(true));
        assert_eq!(finder_module(10, 10), None);
        assert_eq!(finder_module(20, 20), None);
        let finder_cells = (0..MODULES)
            .flat_map(|y| (0..MODULES).map(move |x| (x, y)))
            .filter(|&(x, y)| finder_module(x, y).is_some())
            .count();
        assert_eq!(finder_cells, 3 * 64);
    }

    #[test]
    fn the_pattern_follows_the_seed() {
        assert_eq!(svg("a"), svg("a"));
        assert_ne!(svg("a"), svg("b"));
        assert!(svg("a").starts_with("<svg ") && svg("a").ends_with("</svg>"));
    }
}
