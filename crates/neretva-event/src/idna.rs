//! Domain names to ASCII as Python's `str.encode('idna')` (IDNA 2003) does
//! it, with one simplification: nameprep (RFC 3491) is approximated by
//! Unicode lower casing plus the mappings that matter in practice (`ß` →
//! `ss`, final sigma, invisible characters removed, full-width ASCII and
//! the Latin ligatures); there is no general NFKC normalisation and no
//! prohibited-character check.

/// Checks the labels of an ASCII name as [`to_ascii`] does: none empty (but the last) or
/// longer than 63 bytes.
pub(crate) fn check_ascii_labels(domain: &str) -> Result<(), &'static str> {
    let mut labels = domain.split('.').peekable();
    while let Some(label) = labels.next() {
        let last = labels.peek().is_none();
        if label.len() >= 64 || (label.is_empty() && !last) {
            return Err("has an empty or too long label");
        }
    }
    Ok(())
}

/// The ASCII form of a domain name: non-ASCII labels become `xn--` punycode.
///
/// Fails as Python does on an empty label (other than a final one) and on a
/// label of 64 or more characters.
pub(crate) fn to_ascii(domain: &str) -> Result<String, &'static str> {
    if domain.is_ascii() {
        check_ascii_labels(domain)?;
        return Ok(domain.to_owned());
    }
    let labels: Vec<&str> = domain.split(['.', '\u{3002}', '\u{ff0e}', '\u{ff61}']).collect();
    let mut out = String::with_capacity(domain.len() * 2);
    let count = labels.len();
    for (i, label) in labels.into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if label.is_empty() {
            if i + 1 == count && i > 0 {
                break;
            }
            return Err("has an empty or too long label");
        }
        let ascii = label_to_ascii(label)?;
        if ascii.is_empty() || ascii.len() >= 64 {
            return Err("has an empty or too long label");
        }
        out.push_str(&ascii);
    }
    Ok(out)
}

fn label_to_ascii(label: &str) -> Result<String, &'static str> {
    if label.is_ascii() {
        return Ok(label.to_owned());
    }
    let prepared = nameprep(label);
    if prepared.is_ascii() {
        return Ok(prepared);
    }
    if prepared.starts_with("xn--") {
        return Err("has a label with the ACE prefix and non-ASCII characters");
    }
    let mut out = String::from("xn--");
    punycode_encode(&prepared, &mut out)?;
    Ok(out)
}

/// An approximation of nameprep: see the module doc.
fn nameprep(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in label.chars() {
        match c {
            // Mapped to nothing (RFC 3454 B.1).
            '\u{ad}'
            | '\u{34f}'
            | '\u{1806}'
            | '\u{180b}'..='\u{180d}'
            | '\u{200b}'..='\u{200d}'
            | '\u{2060}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}' => {}
            'ß' => out.push_str("ss"),
            'ς' => out.push('σ'),
            '\u{fb00}' => out.push_str("ff"),
            '\u{fb01}' => out.push_str("fi"),
            '\u{fb02}' => out.push_str("fl"),
            '\u{fb03}' => out.push_str("ffi"),
            '\u{fb04}' => out.push_str("ffl"),
            '\u{fb05}' | '\u{fb06}' => out.push_str("st"),
            // Full-width ASCII (NFKC).
            '\u{ff01}'..='\u{ff5e}' => {
                let ascii = char::from_u32(u32::from(c) - 0xff01 + 0x21).unwrap_or(c);
                out.extend(ascii.to_lowercase());
            }
            c => {
                for lower in c.to_lowercase() {
                    out.push(if lower == 'ς' { 'σ' } else { lower });
                }
            }
        }
    }
    out
}

/// RFC 3492 punycode encoding.
fn punycode_encode(input: &str, out: &mut String) -> Result<(), &'static str> {
    const BASE: u32 = 36;
    const T_MIN: u32 = 1;
    const T_MAX: u32 = 26;
    const SKEW: u32 = 38;
    const DAMP: u32 = 700;
    const INITIAL_BIAS: u32 = 72;
    const INITIAL_N: u32 = 128;
    const OVERFLOW: &str = "is too long to encode";

    fn adapt(mut delta: u32, num_points: u32, first_time: bool) -> u32 {
        delta = if first_time { delta / DAMP } else { delta / 2 };
        delta += delta / num_points;
        let mut k = 0;
        while delta > ((BASE - T_MIN) * T_MAX) / 2 {
            delta /= BASE - T_MIN;
            k += BASE;
        }
        k + (((BASE - T_MIN + 1) * delta) / (delta + SKEW))
    }

    fn digit(d: u32) -> char {
        let byte = if d < 26 { b'a' + d as u8 } else { b'0' + (d - 26) as u8 };
        char::from(byte)
    }

    let code_points: Vec<u32> = input.chars().map(u32::from).collect();
    let basic: Vec<char> = input.chars().filter(char::is_ascii).collect();
    let basic_len = u32::try_from(basic.len()).map_err(|_| OVERFLOW)?;
    out.extend(basic.iter());
    if basic_len > 0 {
        out.push('-');
    }
    let total = u32::try_from(code_points.len()).map_err(|_| OVERFLOW)?;
    let mut n = INITIAL_N;
    let mut delta: u32 = 0;
    let mut bias = INITIAL_BIAS;
    let mut handled = basic_len;
    while handled < total {
        let m = code_points.iter().copied().filter(|&c| c >= n).min().ok_or(OVERFLOW)?;
        delta = delta.checked_add((m - n).checked_mul(handled + 1).ok_or(OVERFLOW)?).ok_or(OVERFLOW)?;
        n = m;
        for &c in &code_points {
            if c < n {
                delta = delta.checked_add(1).ok_or(OVERFLOW)?;
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = if k <= bias {
                        T_MIN
                    } else if k >= bias + T_MAX {
                        T_MAX
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    out.push(digit(t + (q - t) % (BASE - t)));
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                out.push(digit(q));
                bias = adapt(delta, handled + 1, handled == basic_len);
                delta = 0;
                handled += 1;
            }
        }
        delta = delta.checked_add(1).ok_or(OVERFLOW)?;
        n = n.checked_add(1).ok_or(OVERFLOW)?;
    }
    Ok(())
}
