//! Writes the benches' synthetic trust data as a trust-data file (config/trust.json's
//! format, pretty-printed as `callsign trust export` writes it), for measuring `callsign
//! trust import` and `export` on a large file (benches/trust-memory.sh):
//!
//! ```text
//! cargo run --release --example trust_file -- /tmp/1m.json            # 1,000,000 numbers
//! cargo run --release --example trust_file -- /tmp/10k.json 10000
//! ```
//!
//! `NUMBERS` numbers over 1,000 accounts, each number on its account's approved profile
//! and trust product (two channel endpoint assignments per number).

use std::io::Write as _;

// The benches' synthetic world, so the file holds the data they time.
#[path = "../benches/synthetic/mod.rs"]
mod synthetic;

const ACCOUNTS: u64 = 1_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().ok_or("usage: trust_file OUT [NUMBERS]")?;
    let numbers: u64 = args.next().map_or(Ok(1_000_000), |n| n.parse())?;
    let data = synthetic::synthetic(numbers, ACCOUNTS.min(numbers.max(1)));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out)?);
    serde_json::to_writer_pretty(&mut file, &data)?;
    file.write_all(b"\n")?;
    file.flush()?;
    println!(
        "wrote {out}: {numbers} numbers, {} accounts",
        data.accounts.len()
    );
    Ok(())
}
