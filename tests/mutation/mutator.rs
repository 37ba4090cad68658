//! Mutants of job files for the mutation campaign: lines and tokens deleted, duplicated
//! and swapped, huge and non-finite numbers, deep nesting, long SQL chains, control
//! characters and invalid UTF-8, truncation. Seeded: the same seed gives the same mutants.

/// splitmix64: small, seedable, good enough to pick mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The kinds of mutation, by name (the name goes into the report of a failing mutant).
pub const KINDS: [&str; 12] = [
    "delete-line",
    "duplicate-line",
    "swap-lines",
    "delete-token",
    "duplicate-token",
    "swap-tokens",
    "huge-number",
    "deep-nesting",
    "sql-chain",
    "control-character",
    "truncate",
    "replace-token",
];

/// Byte ranges of the tokens of `text`: runs of word characters, and single other
/// characters that are not blank.
fn tokens(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            let start = i;
            while i < text.len()
                && (text[i].is_ascii_alphanumeric() || text[i] == b'_' || text[i] >= 0x80)
            {
                i += 1;
            }
            out.push((start, i));
        } else {
            out.push((i, i + 1));
            i += 1;
        }
    }
    out
}

fn lines(text: &[u8]) -> Vec<Vec<u8>> {
    text.split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// Numbers beyond what a job holds or what an f64 keeps.
const HUGE: [&str; 10] = [
    "100000000000000000000000000000000000000",
    "-170141183460469231731687303715884105729",
    "18446744073709551616",
    "1e400",
    "-1e400",
    "+inf",
    "-inf",
    "NaN",
    "0xffffffffffffffffffffffffffffffffff",
    "1.7976931348623157e309",
];

/// A long chain for a SQL query: `n` terms joined by one operator.
fn sql_chain(rng: &mut Rng) -> String {
    let n = *rng.pick(&[10usize, 400, 1200, 4000, 20000]);
    let op = *rng.pick(&["AND", "OR", "||", "+"]);
    let terms: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
    terms.join(&format!(" {op} "))
}

/// One mutation of `text`, and its kind.
pub fn mutate_once(rng: &mut Rng, text: &[u8]) -> (Vec<u8>, &'static str) {
    let kind = *rng.pick(&KINDS);
    let toks = tokens(text);
    let mut out = text.to_vec();
    match kind {
        "delete-line" | "duplicate-line" | "swap-lines" => {
            let mut ls = lines(text);
            if ls.is_empty() {
                return (out, kind);
            }
            let a = rng.below(ls.len());
            let b = rng.below(ls.len());
            match kind {
                "delete-line" => {
                    ls.remove(a);
                }
                "duplicate-line" => {
                    let l = ls[a].clone();
                    ls.insert(b, l);
                }
                _ => ls.swap(a, b),
            }
            out = ls.concat();
        }
        "delete-token" | "duplicate-token" | "swap-tokens" | "replace-token" => {
            if toks.is_empty() {
                return (out, kind);
            }
            let (a0, a1) = *rng.pick(&toks);
            let (b0, b1) = *rng.pick(&toks);
            let a = text[a0..a1].to_vec();
            let b = text[b0..b1].to_vec();
            out = match kind {
                "delete-token" => [&text[..a0], &text[a1..]].concat(),
                "duplicate-token" => [&text[..b0], &a[..], b" ", &text[b0..]].concat(),
                "replace-token" => [&text[..a0], &b[..], &text[a1..]].concat(),
                _ if a0 < b0 && a1 <= b0 => {
                    [&text[..a0], &b[..], &text[a1..b0], &a[..], &text[b1..]].concat()
                }
                _ if b0 < a0 && b1 <= a0 => {
                    [&text[..b0], &a[..], &text[b1..a0], &b[..], &text[a1..]].concat()
                }
                _ => out,
            };
        }
        "huge-number" => {
            let number = rng.pick(&HUGE).as_bytes();
            let digits: Vec<_> = toks
                .iter()
                .filter(|(s, _)| text[*s].is_ascii_digit())
                .collect();
            out = match (digits.is_empty(), rng.below(2)) {
                (false, 0) => {
                    let (s, e) = **rng.pick(&digits);
                    [&text[..s], number, &text[e..]].concat()
                }
                _ => {
                    let at = toks.get(rng.below(toks.len().max(1))).map_or(0, |t| t.0);
                    [&text[..at], number, b" ", &text[at..]].concat()
                }
            };
            // 310 digits: an integer beyond even f64's range
            if rng.below(4) == 0
                && let Some(&&(s, e)) = digits.first()
            {
                let long = "9".repeat(310);
                out = [&text[..s], long.as_bytes(), &text[e..]].concat();
            }
        }
        "deep-nesting" => {
            let depth = *rng.pick(&[3usize, 64, 127, 129, 400, 5000]);
            out = match rng.below(4) {
                0 => [b"Job(".as_slice(), text, b")"].concat(),
                1 => {
                    let at = toks.get(rng.below(toks.len().max(1))).map_or(0, |t| t.0);
                    let open = "[".repeat(depth);
                    let close = "]".repeat(depth);
                    [
                        &text[..at],
                        open.as_bytes(),
                        b"1",
                        close.as_bytes(),
                        b", ",
                        &text[at..],
                    ]
                    .concat()
                }
                2 => {
                    let open = "(".repeat(depth);
                    let close = ")".repeat(depth);
                    [open.as_bytes(), text, close.as_bytes()].concat()
                }
                _ => {
                    // brackets inside a query
                    let q = format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
                    splice_sql(text, &q).unwrap_or(out)
                }
            };
        }
        "sql-chain" => {
            let chain = sql_chain(rng);
            out = splice_sql(text, &chain).unwrap_or(out);
        }
        "control-character" => {
            let junk: &[&[u8]] = &[
                b"\x00",
                b"\x07",
                b"\x1b[2J",
                b"\x1b]0;title\x07",
                b"\r",
                b"\x7f",
                b"\xef\xbb\xbf",
                b"\xff",
                b"\xc3",
                b"\t",
                b"\x0b\x0c",
            ];
            let at = rng.below(text.len() + 1);
            let j: &[u8] = junk[rng.below(junk.len())];
            out = [&text[..at], j, &text[at..]].concat();
        }
        _ => out.truncate(rng.below(text.len() + 1)),
    }
    (out, kind)
}

/// `text` with `expr` spliced into its first SQL query, as a selected column.
fn splice_sql(text: &[u8], expr: &str) -> Option<Vec<u8>> {
    let at = text
        .windows(7)
        .position(|w| w.eq_ignore_ascii_case(b"SELECT "))?
        + 7;
    Some([&text[..at], expr.as_bytes(), b" AS deep, ", &text[at..]].concat())
}

/// A mutant of `text`: one to three mutations; returns the kinds applied.
pub fn mutant(rng: &mut Rng, text: &[u8]) -> (Vec<u8>, Vec<&'static str>) {
    let mut out = text.to_vec();
    let mut kinds = Vec::new();
    for _ in 0..=rng.below(3) {
        let (next, kind) = mutate_once(rng, &out);
        out = next;
        kinds.push(kind);
    }
    (out, kinds)
}
