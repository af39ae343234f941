//! A tiny PNG writer for the users' profile photos.
//!
//! Photos only need to be real PNG files that an image decoder accepts, so the
//! writer uses stored (uncompressed) deflate blocks: no compression library,
//! and the CRC-32 and Adler-32 checksums are a few lines each.

/// An RGB image, 8 bits per channel, encoded as PNG.
pub(crate) fn encode_rgb(width: u32, height: u32, pixels: &[[u8; 3]]) -> Vec<u8> {
    assert_eq!(
        pixels.len(),
        (width * height) as usize,
        "one pixel per cell"
    );
    // Each scanline starts with filter type 0 (none).
    let mut raw = Vec::with_capacity((height * (1 + 3 * width)) as usize);
    for row in pixels.chunks(width as usize) {
        raw.push(0);
        for px in row {
            raw.extend_from_slice(px);
        }
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // depth 8, truecolour, deflate, filter 0, no interlace
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01]; // deflate, 32 KiB window, no preset dictionary
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![&[]]
    } else {
        data.chunks(0xffff).collect()
    };
    let last = blocks.len() - 1;
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i == last)); // BFINAL, BTYPE=00 (stored)
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// A head-and-shoulders silhouette on a background colour picked from `hue`,
/// so that photos of different people look different at a glance.
pub(crate) fn portrait(hue: u32, size: u32) -> Vec<u8> {
    let bg = hsl_to_rgb(hue % 360, 0.45, 0.55);
    let fg = hsl_to_rgb(hue % 360, 0.35, 0.85);
    let s = size as f32;
    let mut pixels = Vec::with_capacity((size * size) as usize);
    for y in 0..size {
        for x in 0..size {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            let head = (fx - s / 2.0).powi(2) + (fy - s * 0.38).powi(2) <= (s * 0.18).powi(2);
            let shoulders = fy >= s * 0.62
                && ((fx - s / 2.0) / (s * 0.36)).powi(2) + ((fy - s) / (s * 0.4)).powi(2) <= 1.0;
            pixels.push(if head || shoulders { fg } else { bg });
        }
    }
    encode_rgb(size, size, &pixels)
}

fn hsl_to_rgb(h: u32, s: f32, l: f32) -> [u8; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h as f32 / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match h / 60 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to = |v: f32| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [to(r), to(g), to(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn portrait_is_a_well_formed_png() {
        let png = portrait(200, 48);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 48);
        assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
        // IDAT holds the zlib stream of 48 scanlines of 1 + 48*3 bytes.
        let idat_len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
        assert_eq!(&png[37..41], b"IDAT");
        assert_eq!(idat_len, 2 + 5 + 48 * (1 + 48 * 3) + 4);
        assert_ne!(
            portrait(10, 48),
            png,
            "different people, different pictures"
        );
    }
}
