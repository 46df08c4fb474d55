//! Text folding: the one form in which names, cities, states and the words of address
//! lines are compared, so that case, diacritics, punctuation and spacing never decide
//! a match.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Combining marks are dropped after a base character below this code point: the Latin,
/// Greek and Cyrillic blocks, where a mark is a diacritic (`é` is `e` + U+0301). In other
/// scripts (Devanagari, Thai, Arabic...) marks are vowels and the like, and are kept.
const MARKS_FOLD_BELOW: char = '\u{0530}';

/// Folds `s`: Unicode NFKD (so ligatures, full-width and compatibility forms become
/// plain letters), diacritics dropped (`Müller` = `Muller`, `José` = `Jose`), lowercase,
/// `ß` = `ss`, `æ` = `ae`, `ø` = `o` and a few more letters that do not decompose,
/// apostrophes removed (`O'Brien` = `OBrien`), every other character that is not a
/// letter or digit a word break, and words separated by single spaces.
///
/// ```
/// use callsign::vetting::identity::normalize::fold;
/// assert_eq!(fold("  Müller-LÜDENSCHEID, José "), "muller ludenscheid jose");
/// assert_eq!(fold("O'Brien"), "obrien");
/// assert_eq!(fold("Straße"), "strasse");
/// ```
pub fn fold(s: &str) -> String {
    fold_keeping(s, &[])
}

/// [`fold`], but each of `keep` stays, as a word of its own (the address parser keeps
/// `/` and `#`).
pub(crate) fn fold_keeping(s: &str, keep: &[char]) -> String {
    let mut out = Folded {
        text: String::with_capacity(s.len()),
        space: false,
    };
    let mut marks_fold = true;
    for c in s.nfkd() {
        if is_combining_mark(c) {
            if !marks_fold {
                out.push_str(c.encode_utf8(&mut [0; 4]));
            }
            continue;
        }
        // Marks on a character that becomes a space go with it.
        marks_fold = c < MARKS_FOLD_BELOW || !c.is_alphanumeric();
        if is_apostrophe(c) {
            continue;
        }
        if keep.contains(&c) {
            out.space = true;
            out.push_str(c.encode_utf8(&mut [0; 4]));
            out.space = true;
        } else if c.is_alphanumeric() {
            match special_letter(c) {
                Some(s) => out.push_str(s),
                None => {
                    for lower in c.to_lowercase() {
                        out.push_str(lower.encode_utf8(&mut [0; 4]));
                    }
                }
            }
        } else {
            out.space = true;
        }
    }
    out.text
}

/// `s` without its spaces: the form in which `Mary Ann` and `Maryann` are equal.
pub fn compact(s: &str) -> String {
    s.chars().filter(|c| *c != ' ').collect()
}

/// A folded text being built: a space is written only between two words.
struct Folded {
    text: String,
    space: bool,
}

impl Folded {
    fn push_str(&mut self, s: &str) {
        if self.space && !self.text.is_empty() {
            self.text.push(' ');
        }
        self.space = false;
        self.text.push_str(s);
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{02BC}' | '`')
}

/// Letters that NFKD leaves whole but that people write without their stroke or as two
/// letters.
fn special_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' | 'ẞ' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ø' | 'Ø' => "o",
        'đ' | 'Đ' => "d",
        'ł' | 'Ł' => "l",
        'þ' | 'Þ' => "th",
        'ð' | 'Ð' => "d",
        'ı' => "i",
        _ => return None,
    })
}

/// A postal code in the form it is compared in: letters and digits only, uppercase
/// (`SW1A 1AA` = `sw1a1aa`, `10021-3100` = `100213100`).
pub fn postal_code(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Whether two postal codes are the same: equal in [`postal_code`] form, or a US ZIP
/// and a ZIP+4 with the same five digits (`10021` = `10021-3100`). Two ZIP+4 codes must
/// agree in all nine digits.
pub fn same_postal_code(a: &str, b: &str) -> bool {
    let (a, b) = (postal_code(a), postal_code(b));
    if a == b {
        return true;
    }
    let zip = |s: &str| s.len() == 5 && s.bytes().all(|c| c.is_ascii_digit());
    let zip4 = |s: &str| s.len() == 9 && s.bytes().all(|c| c.is_ascii_digit());
    let (short, long) = if a.len() < b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    zip(short) && zip4(long) && long.starts_with(short.as_str())
}

/// A national ID in the form it is compared in: spaces, hyphens, dots and slashes
/// removed, uppercase (`123-45-6789` = `123 45 6789`; a CPF `123.456.789-09`).
pub fn national_id(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.' | '/'))
        .flat_map(char::to_uppercase)
        .collect()
}

/// A country code in the form it is compared in: trimmed, ASCII uppercase, `UK` read
/// as `GB` (ISO 3166-1 reserves `UK` for the United Kingdom).
pub fn country_code(s: &str) -> String {
    let code = s.trim().to_ascii_uppercase();
    if code == "UK" { "GB".to_owned() } else { code }
}
