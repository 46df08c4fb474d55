//! Subdivision codes and names: US states (with DC and Puerto Rico), Canadian provinces
//! and territories, Australian states and territories, so that `NY` and `New York`
//! grade as the same state.

use super::normalize::compact;

/// US states, DC and Puerto Rico: USPS code, folded name.
const US: &[(&str, &str)] = &[
    ("al", "alabama"),
    ("ak", "alaska"),
    ("az", "arizona"),
    ("ar", "arkansas"),
    ("ca", "california"),
    ("co", "colorado"),
    ("ct", "connecticut"),
    ("de", "delaware"),
    ("fl", "florida"),
    ("ga", "georgia"),
    ("hi", "hawaii"),
    ("id", "idaho"),
    ("il", "illinois"),
    ("in", "indiana"),
    ("ia", "iowa"),
    ("ks", "kansas"),
    ("ky", "kentucky"),
    ("la", "louisiana"),
    ("me", "maine"),
    ("md", "maryland"),
    ("ma", "massachusetts"),
    ("mi", "michigan"),
    ("mn", "minnesota"),
    ("ms", "mississippi"),
    ("mo", "missouri"),
    ("mt", "montana"),
    ("ne", "nebraska"),
    ("nv", "nevada"),
    ("nh", "new hampshire"),
    ("nj", "new jersey"),
    ("nm", "new mexico"),
    ("ny", "new york"),
    ("nc", "north carolina"),
    ("nd", "north dakota"),
    ("oh", "ohio"),
    ("ok", "oklahoma"),
    ("or", "oregon"),
    ("pa", "pennsylvania"),
    ("ri", "rhode island"),
    ("sc", "south carolina"),
    ("sd", "south dakota"),
    ("tn", "tennessee"),
    ("tx", "texas"),
    ("ut", "utah"),
    ("vt", "vermont"),
    ("va", "virginia"),
    ("wa", "washington"),
    ("wv", "west virginia"),
    ("wi", "wisconsin"),
    ("wy", "wyoming"),
    ("dc", "district of columbia"),
    ("pr", "puerto rico"),
];

/// Canadian provinces and territories (Canada Post codes).
const CA: &[(&str, &str)] = &[
    ("ab", "alberta"),
    ("bc", "british columbia"),
    ("mb", "manitoba"),
    ("nb", "new brunswick"),
    ("nl", "newfoundland and labrador"),
    ("ns", "nova scotia"),
    ("nt", "northwest territories"),
    ("nu", "nunavut"),
    ("on", "ontario"),
    ("pe", "prince edward island"),
    ("qc", "quebec"),
    ("sk", "saskatchewan"),
    ("yt", "yukon"),
];

/// Australian states and territories (Twilio asks for the abbreviation, e.g. `QLD`).
const AU: &[(&str, &str)] = &[
    ("act", "australian capital territory"),
    ("nsw", "new south wales"),
    ("nt", "northern territory"),
    ("qld", "queensland"),
    ("sa", "south australia"),
    ("tas", "tasmania"),
    ("vic", "victoria"),
    ("wa", "western australia"),
];

/// The tables, each consistent on its own: `WA` is Washington in one and Western
/// Australia in another, so codes are expanded one table at a time.
const TABLES: [&[(&str, &str)]; 3] = [US, CA, AU];

/// Whether two folded subdivisions are the same: equal, equal without spaces (`N.Y.`
/// folds to `n y`), or equal once a code is expanded to its name in one of the tables.
pub(crate) fn same_state(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (ca, cb) = (compact(a), compact(b));
    if ca == cb {
        return true;
    }
    TABLES
        .iter()
        .any(|table| expand(table, &ca, a) == expand(table, &cb, b))
}

/// The name of `code` in `table`, else `folded` itself.
fn expand<'a>(table: &[(&str, &'a str)], code: &str, folded: &'a str) -> &'a str {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(folded, |(_, name)| name)
}
