//! Profile photos: a made-up portrait per user, encoded as PNG by the `png`
//! crate (written `::png` here, where this module's own name would hide it).

/// An RGB image, 8 bits per channel, encoded as PNG.
fn encode_rgb(width: u32, height: u32, pixels: &[[u8; 3]]) -> Vec<u8> {
    let mut png = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut png, width, height);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut writer| {
            writer.write_image_data(pixels.as_flattened())?;
            writer.finish()
        })
        .expect("an image of one pixel per cell encodes into memory");
    png
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

    /// Decodes a PNG into its size and RGB pixels.
    fn decode(png: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
        let mut reader = ::png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(
            (info.color_type, info.bit_depth),
            (::png::ColorType::Rgb, ::png::BitDepth::Eight)
        );
        let pixels = buf[..info.buffer_size()]
            .chunks(3)
            .map(|p| [p[0], p[1], p[2]])
            .collect();
        (info.width, info.height, pixels)
    }

    #[test]
    fn portrait_is_a_png_of_a_silhouette_on_a_background() {
        let png = portrait(200, 48);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let (width, height, pixels) = decode(&png);
        assert_eq!((width, height), (48, 48));
        let at = |x: usize, y: usize| pixels[y * 48 + x];
        let (bg, fg) = (hsl_to_rgb(200, 0.45, 0.55), hsl_to_rgb(200, 0.35, 0.85));
        assert_eq!(at(0, 0), bg, "corner");
        assert_eq!(at(24, 18), fg, "head");
        assert_eq!(at(24, 47), fg, "shoulders");
        assert_eq!(at(5, 40), bg, "beside the shoulders");
        assert!(pixels.iter().all(|p| *p == bg || *p == fg));
        assert_ne!(
            portrait(10, 48),
            png,
            "different people, different pictures"
        );
    }
}
