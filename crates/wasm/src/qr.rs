//! QR codes as compact SVG: one path, each horizontal run of dark modules one stroke.
//!
//! A QR encoder of its own, for exactly what the checkout draws: byte mode, error correction M,
//! the smallest version (1–40) that holds the text, the mask of lowest penalty. It replaced the
//! `qrcode` crate (0.14) in the widget's wasm: that crate's generic path (numeric, alphanumeric
//! and kanji modes, Micro QR, every EC level, a canvas of enum modules cloned per mask) cost about
//! 4 KB of the widget's 45 KB gzip budget and ran at 0.57× npm `qrcode`'s throughput. The module
//! matrices are the same bit for bit: the unit tests below compare every module with the crate's
//! output (kept as a dev-dependency) for texts of every length that fits, so the penalty rules
//! follow the crate's reading of ISO/IEC 18004 §7.8.3 (the crate's balance score is linear, not
//! in 5% steps). Numbers are written without `core::fmt` to keep its code out of the wasm.

/// Modules of quiet zone around the code (the standard asks for 4).
const QUIET: usize = 4;

/// Error correction codewords per block at level M, versions 1–40 (ISO/IEC 18004 table 9).
const EC_PER_BLOCK: [u8; 40] = [
    10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
];
/// Error correction blocks at level M, versions 1–40 (ISO/IEC 18004 table 9).
const BLOCKS: [u8; 40] = [
    1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25,
    26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
];

/// Module flags: dark, and part of a function pattern (never masked, never holds data).
const DARK: u8 = 1;
const FUNCTION: u8 = 2;

/// Codewords (data and error correction) a version holds: its modules less the function patterns.
fn raw_codewords(version: usize) -> usize {
    let mut modules = (16 * version + 128) * version + 64;
    if version >= 2 {
        let align = version / 7 + 2;
        modules -= (25 * align - 10) * align - 55;
        if version >= 7 {
            modules -= 36;
        }
    }
    modules / 8
}

fn data_codewords(version: usize) -> usize {
    raw_codewords(version)
        - usize::from(EC_PER_BLOCK[version - 1]) * usize::from(BLOCKS[version - 1])
}

/// Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1.
fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            product ^= a;
        }
        // Multiplying by x: shift, and reduce by the field's polynomial when x^8 falls out.
        a = (a << 1) ^ if a & 0x80 != 0 { 0x1d } else { 0 };
        b >>= 1;
    }
    product
}

/// The Reed-Solomon generator polynomial of `degree`, highest coefficient (1) left out.
fn generator(degree: usize) -> Vec<u8> {
    let mut poly = vec![0u8; degree];
    poly[degree - 1] = 1;
    let mut root = 1u8;
    for _ in 0..degree {
        for j in 0..degree {
            poly[j] = gf_mul(poly[j], root);
            if j + 1 < degree {
                poly[j] ^= poly[j + 1];
            }
        }
        root = gf_mul(root, 2);
    }
    poly
}

/// Appends the error correction codewords of `data` (the remainder of its division).
fn ec_codewords(data: &[u8], generator: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + generator.len(), 0);
    let rem = &mut out[start..];
    for &byte in data {
        let factor = byte ^ rem[0];
        rem.copy_within(1.., 0);
        let last = rem.len() - 1;
        rem[last] = 0;
        if factor != 0 {
            for (r, &g) in rem.iter_mut().zip(generator) {
                *r ^= gf_mul(g, factor);
            }
        }
    }
}

/// The bit stream of `data` in byte mode for `version`, with terminator and padding, split into
/// blocks and interleaved with their error correction (ISO/IEC 18004 §7.4–7.6).
fn codewords(data: &[u8], version: usize) -> Vec<u8> {
    let capacity = data_codewords(version);
    let mut bits = BitBuffer {
        bytes: Vec::with_capacity(raw_codewords(version)),
        acc: 0b0100,
        len: 4,
    };
    // Mode 0100 (byte), then the count: 8 bits up to version 9, 16 bits from 10. The caller
    // checked that the length fits the count (it fits the version).
    bits.push(data.len() as u32, if version < 10 { 8 } else { 16 });
    for &b in data {
        bits.push(u32::from(b), 8);
    }
    // Terminator: up to 4 zero bits, then zeros to the byte boundary (both when room is left).
    if bits.bytes.len() < capacity && bits.len > 0 {
        bits.push(0, 8 - bits.len);
    }
    let mut bytes = bits.bytes;
    let mut pad = 0xec;
    while bytes.len() < capacity {
        bytes.push(pad);
        pad ^= 0xec ^ 0x11;
    }

    let blocks = usize::from(BLOCKS[version - 1]);
    let ec_len = usize::from(EC_PER_BLOCK[version - 1]);
    let raw = raw_codewords(version);
    let short_blocks = blocks - raw % blocks;
    let short_data = raw / blocks - ec_len;
    let generator = generator(ec_len);
    let mut ec = Vec::with_capacity(blocks * ec_len);
    let mut starts = Vec::with_capacity(blocks + 1);
    let mut at = 0;
    for block in 0..blocks {
        starts.push(at);
        let len = short_data + usize::from(block >= short_blocks);
        ec_codewords(&bytes[at..at + len], &generator, &mut ec);
        at += len;
    }
    starts.push(at);
    let mut out = Vec::with_capacity(raw);
    for i in 0..=short_data {
        for block in 0..blocks {
            if starts[block] + i < starts[block + 1] {
                out.push(bytes[starts[block] + i]);
            }
        }
    }
    for i in 0..ec_len {
        for block in 0..blocks {
            out.push(ec[block * ec_len + i]);
        }
    }
    out
}

/// Bits appended most significant first, whole bytes flushed to `bytes`.
struct BitBuffer {
    bytes: Vec<u8>,
    acc: u32,
    len: u32,
}

impl BitBuffer {
    fn push(&mut self, value: u32, bits: u32) {
        self.acc = (self.acc << bits) | value;
        self.len += bits;
        while self.len >= 8 {
            self.len -= 8;
            self.bytes.push((self.acc >> self.len) as u8);
        }
        self.acc &= (1 << self.len) - 1;
    }
}

/// A square of modules, row by row.
struct Matrix {
    size: usize,
    modules: Vec<u8>,
}

impl Matrix {
    fn set(&mut self, x: usize, y: usize, dark: bool) {
        self.modules[y * self.size + x] = FUNCTION | u8::from(dark);
    }

    /// A finder pattern centred on (x, y) with its separator, clipped to the symbol.
    fn finder(&mut self, x: usize, y: usize) {
        for dy in 0..9 {
            for dx in 0..9 {
                let (mx, my) = ((x + dx).wrapping_sub(4), (y + dy).wrapping_sub(4));
                if mx < self.size && my < self.size {
                    let d = dx.abs_diff(4).max(dy.abs_diff(4));
                    self.set(mx, my, d != 2 && d != 4);
                }
            }
        }
    }

    fn alignment(&mut self, x: usize, y: usize) {
        for dy in 0..5usize {
            for dx in 0..5usize {
                let d = dx.abs_diff(2).max(dy.abs_diff(2));
                self.set(x + dx - 2, y + dy - 2, d != 1);
            }
        }
    }

    /// The 15 format bits (EC level M and `mask`, BCH-protected), both copies.
    fn format(&mut self, mask: usize) {
        let data = mask as u32; // EC level M is 00.
        let mut rem = data;
        for _ in 0..10 {
            rem = (rem << 1) ^ ((rem >> 9) * 0x537);
        }
        let bits = ((data << 10) | rem) ^ 0x5412;
        let bit = |i: usize| (bits >> i) & 1 != 0;
        let size = self.size;
        for i in 0..6 {
            self.set(8, i, bit(i));
        }
        self.set(8, 7, bit(6));
        self.set(8, 8, bit(7));
        self.set(7, 8, bit(8));
        for i in 9..15 {
            self.set(14 - i, 8, bit(i));
        }
        for i in 0..8 {
            self.set(size - 1 - i, 8, bit(i));
        }
        for i in 8..15 {
            self.set(8, size - 15 + i, bit(i));
        }
        self.set(8, size - 8, true);
    }
}

/// The module matrix of `data`: `size × size` bytes, row by row, bit 0 set where dark.
fn encode(data: &[u8]) -> Option<(usize, Vec<u8>)> {
    let version = (1..=40).find(|&v| {
        let count_bits = if v < 10 { 8 } else { 16 };
        data.len() < 1 << count_bits && 4 + count_bits + 8 * data.len() <= 8 * data_codewords(v)
    })?;
    let size = 17 + 4 * version;
    let mut m = Matrix {
        size,
        modules: vec![0; size * size],
    };
    for i in 0..size {
        m.set(6, i, i % 2 == 0);
        m.set(i, 6, i % 2 == 0);
    }
    m.finder(3, 3);
    m.finder(size - 4, 3);
    m.finder(3, size - 4);
    if version >= 2 {
        let count = version / 7 + 2;
        let step = if version == 32 {
            26
        } else {
            (version * 4 + count * 2 + 1) / (count * 2 - 2) * 2
        };
        let mut positions = vec![6];
        positions.extend((0..count - 1).rev().map(|k| size - 7 - k * step));
        for (i, &y) in positions.iter().enumerate() {
            for (j, &x) in positions.iter().enumerate() {
                let corner = (i == 0 && (j == 0 || j == count - 1)) || (i == count - 1 && j == 0);
                if !corner {
                    m.alignment(x, y);
                }
            }
        }
    }
    m.format(0); // reserves the format areas
    if version >= 7 {
        let mut rem = version as u32;
        for _ in 0..12 {
            rem = (rem << 1) ^ ((rem >> 11) * 0x1f25);
        }
        let bits = ((version as u32) << 12) | rem;
        for i in 0..18 {
            let dark = (bits >> i) & 1 != 0;
            let (a, b) = (size - 11 + i % 3, i / 3);
            m.set(a, b, dark);
            m.set(b, a, dark);
        }
    }

    // Data in the zigzag order: two columns at a time from the right, up then down, skipping the
    // vertical timing pattern. The remainder bits stay light (before masking).
    let words = codewords(data, version);
    let total_bits = words.len() * 8;
    let mut bit = 0;
    let mut right = size - 1;
    while right >= 1 {
        if right == 6 {
            right = 5;
        }
        let upward = (right + 1) & 2 == 0;
        for vert in 0..size {
            let y = if upward { size - 1 - vert } else { vert };
            for x in [right, right - 1] {
                let i = y * size + x;
                if m.modules[i] & FUNCTION == 0 && bit < total_bits {
                    m.modules[i] = (words[bit >> 3] >> (7 - (bit & 7))) & 1;
                    bit += 1;
                }
            }
        }
        if right < 2 {
            break;
        }
        right -= 2;
    }

    // Every mask, the one of lowest penalty (the first of equals).
    let base = m.modules;
    let (mut best_score, mut best) = (u32::MAX, Vec::new());
    for mask in 0..8 {
        let mut modules = base.clone();
        for y in 0..size {
            for x in 0..size {
                let invert = match mask {
                    0 => (x + y) % 2 == 0,
                    1 => y % 2 == 0,
                    2 => x % 3 == 0,
                    3 => (x + y) % 3 == 0,
                    4 => (y / 2 + x / 3) % 2 == 0,
                    5 => (x * y) % 2 + (x * y) % 3 == 0,
                    6 => ((x * y) % 2 + (x * y) % 3) % 2 == 0,
                    _ => ((x + y) % 2 + (x * y) % 3) % 2 == 0,
                };
                let module = &mut modules[y * size + x];
                if invert && *module & FUNCTION == 0 {
                    *module ^= DARK;
                }
            }
        }
        let mut masked = Matrix { size, modules };
        masked.format(mask);
        for module in &mut masked.modules {
            *module &= DARK;
        }
        let score = penalty(size, &masked.modules);
        if score < best_score {
            (best_score, best) = (score, masked.modules);
        }
    }
    Some((size, best))
}

/// The penalty of a masked matrix (0 light, 1 dark), as the `qrcode` crate scores it.
fn penalty(size: usize, m: &[u8]) -> u32 {
    let mut score = 0u32;
    let mut line = vec![0u8; size];
    for horizontal in [true, false] {
        for i in 0..size {
            for (j, cell) in line.iter_mut().enumerate() {
                *cell = if horizontal {
                    m[i * size + j]
                } else {
                    m[j * size + i]
                };
            }
            // Runs of five or more of one colour: length − 2 each.
            let mut run = 1;
            for j in 1..=size {
                if j < size && line[j] == line[j - 1] {
                    run += 1;
                } else {
                    if run >= 5 {
                        score += run - 2;
                    }
                    run = 1;
                }
            }
            // 1:1:3:1:1 finder-like patterns with four light modules on either side: 40 each.
            for j in 0..size - 6 {
                if line[j..j + 7] == [1, 0, 1, 1, 1, 0, 1] {
                    let before = line[j.saturating_sub(4)..j].contains(&1);
                    let after = line[j + 7..(j + 11).min(size)].contains(&1);
                    if !before || !after {
                        score += 40;
                    }
                }
            }
        }
    }
    // 2×2 blocks of one colour: 3 each.
    for y in 0..size - 1 {
        for x in 0..size - 1 {
            let a = m[y * size + x];
            if a == m[y * size + x + 1]
                && a == m[(y + 1) * size + x]
                && a == m[(y + 1) * size + x + 1]
            {
                score += 3;
            }
        }
    }
    // Balance: the deviation from half dark, linear.
    let dark = m.iter().filter(|&&c| c != 0).count();
    let ratio = dark * 200 / m.len();
    score + ratio.abs_diff(100) as u32
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
    let (width, colors) = encode(text.as_bytes())
        .ok_or("the text is too long for a QR code (2,331 bytes at most)")?;
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
            if row[x] != 0 {
                let start = x;
                while x < width && row[x] != 0 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::bits::Bits;
    use qrcode::{Color, EcLevel, QrCode, Version};

    /// The `qrcode` crate's matrix for `data` in byte mode, EC level M, smallest version.
    fn reference(data: &[u8]) -> Option<(usize, Vec<u8>)> {
        for version in 1..=40 {
            let mut bits = Bits::new(Version::Normal(version));
            if bits.push_byte_data(data).is_ok() && bits.push_terminator(EcLevel::M).is_ok() {
                let code = QrCode::with_bits(bits, EcLevel::M).unwrap();
                let colors = code
                    .to_colors()
                    .iter()
                    .map(|c| u8::from(*c == Color::Dark))
                    .collect();
                return Some((code.width(), colors));
            }
        }
        None
    }

    fn text(len: usize, seed: usize) -> Vec<u8> {
        let uri = b"ethereum:0x5FbDB2315678afecb367f032d93F642f64180aa3@31337/transfer?address=0xa0Ee7A142d267C1f36714E4a8F75612F20a79720&uint256=12340000";
        (0..len)
            .map(|i| uri[(i * 7 + seed) % uri.len()] ^ ((i / uri.len()) as u8))
            .collect()
    }

    #[test]
    fn same_modules_as_the_qrcode_crate_at_every_version() {
        // Short texts, and the longest text each version holds, one byte less and one more (the
        // next version): every version's alignment and version-information layout. Two texts
        // per length up to version 20; one from 21 on (each of those takes the reference, a
        // debug build, a while).
        let mut cases: Vec<(usize, usize)> = (0..=160)
            .step_by(9)
            .flat_map(|len| [(len, 0), (len, 1)])
            .collect();
        for v in 1..=40 {
            let count_bits = if v < 10 { 8 } else { 16 };
            let fits = (8 * data_codewords(v) - 4 - count_bits) / 8;
            let seeds = if v <= 20 { 2 } else { 1 };
            for len in [fits - 1, fits, fits + 1] {
                cases.extend((0..seeds).map(|seed| (len, seed)));
            }
        }
        for (len, seed) in cases {
            let data = text(len, seed);
            assert_eq!(encode(&data), reference(&data), "{len} bytes, seed {seed}");
        }
    }

    #[test]
    fn too_long_is_an_error() {
        assert!(svg(&"a".repeat(2331)).is_ok());
        assert_eq!(
            svg(&"a".repeat(2332)),
            Err("the text is too long for a QR code (2,331 bytes at most)")
        );
    }
}
