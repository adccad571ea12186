//! QR codes as compact SVG: one path, each horizontal run of dark modules one stroke.
//!
//! The text is encoded in byte mode at the smallest version that holds it, with error correction
//! M. Payment URIs and TRON addresses mix cases, so byte mode is what the `qrcode` crate's
//! segment optimiser would pick for them anyway; calling its `Bits` builder directly leaves the
//! optimiser (and its mode tables) out of the widget's wasm. Numbers are written without
//! `core::fmt` for the same reason.

use qrcode::bits::Bits;
use qrcode::types::QrError;
use qrcode::{Color, EcLevel, QrCode, Version};

/// Modules of quiet zone around the code (the standard asks for 4).
const QUIET: usize = 4;

/// Encodes `data` in byte mode at the smallest version (1–40) that holds it.
fn encode(data: &[u8]) -> Result<QrCode, QrError> {
    for version in 1..=40 {
        let mut bits = Bits::new(Version::Normal(version));
        if bits.push_byte_data(data).is_ok() && bits.push_terminator(EcLevel::M).is_ok() {
            return QrCode::with_bits(bits, EcLevel::M);
        }
    }
    Err(QrError::DataTooLong)
}

/// Appends the decimal digits of `n`.
fn push_number(out: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        // n % 10 < 10, so the cast cannot truncate.
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[start..] {
        out.push(char::from(digit));
    }
}

/// Renders `text` as an SVG QR code with error correction M.
pub fn svg(text: &str) -> Result<String, &'static str> {
    let code = encode(text.as_bytes())
        .map_err(|_| "the text is too long for a QR code (2,331 bytes at most)")?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET;
    let mut out = String::with_capacity(200 + 2 * width * width);
    out.push_str("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ");
    push_number(&mut out, size);
    out.push(' ');
    push_number(&mut out, size);
    out.push_str("\" shape-rendering=\"crispEdges\"><path fill=\"#fff\" d=\"M0 0h");
    push_number(&mut out, size);
    out.push('v');
    push_number(&mut out, size);
    out.push_str("H0z\"/><path stroke=\"#000\" d=\"");
    for y in 0..width {
        let row = &colors[y * width..(y + 1) * width];
        // Each run of dark modules is one stroke, 1 module wide, along the middle of its row:
        // the row's first run moves absolutely ("M<x> <y>.5h<len>"), the next ones relatively
        // from the end of the previous run ("m<gap> 0h<len>"). About 7 bytes a run.
        let mut pen: Option<usize> = None;
        let mut x = 0;
        while x < width {
            if row[x] == Color::Dark {
                let start = x;
                while x < width && row[x] == Color::Dark {
                    x += 1;
                }
                match pen {
                    None => {
                        out.push('M');
                        push_number(&mut out, start + QUIET);
                        out.push(' ');
                        push_number(&mut out, y + QUIET);
                        out.push_str(".5");
                    }
                    Some(end) => {
                        out.push('m');
                        push_number(&mut out, start - end);
                        out.push_str(" 0");
                    }
                }
                out.push('h');
                push_number(&mut out, x - start);
                pen = Some(x);
            } else {
                x += 1;
            }
        }
    }
    out.push_str("\"/></svg>");
    Ok(out)
}
