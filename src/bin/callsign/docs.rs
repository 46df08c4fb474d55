//! `callsign man` and `callsign completions`: manual pages and shell completions,
//! generated from the command-line definition so that they cannot drift from it.

use std::path::Path;

use anyhow::{Context as _, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::Cli;

/// What `callsign(1)` says beyond the command-line definition: files, environment,
/// signals, exit status.
const MAIN_PAGE_SECTIONS: &str = r#".SH FILES
.TP
\fI/etc/callsign/callsign.toml\fR
The configuration \fBcallsign serve\fR reads when neither \fB\-\-config\fR nor
\fBCALLSIGN_CONFIG\fR names one (in a source checkout, \fIconfig/callsign.toml\fR comes
first). \fBcallsign config check\fR validates a configuration and prints its effective
settings.
.TP
\fI/var/lib/callsign/callsign.db\fR
The SQLite trust store of the packaged configuration, readable by its owner only.
.SH ENVIRONMENT
.TP
\fBCALLSIGN_CONFIG\fR
The configuration file, as \fB\-\-config\fR gives it.
.TP
\fBRUST_LOG\fR
Which log lines to write: \fBinfo\fR by default; for example \fBdebug\fR, or
\fBwarn,callsign::audit=info\fR for warnings and the audit log. Logs go to standard
error, as text or, with \fB\-\-log\-json\fR, as JSON lines.
.TP
\fBNOTIFY_SOCKET\fR
Set by systemd for \fIType=notify\fR services: \fBcallsign serve\fR sends READY=1 once its
listeners are bound and its index is built, and STOPPING=1 when it starts to stop.
.SH SIGNALS
.TP
\fBSIGHUP\fR
Reload the signing key and certificate chain, then the trust data. What fails the
start-up checks is refused, with an error, and what is in use stays.
.TP
\fBSIGTERM\fR, \fBSIGINT\fR
Drain, then stop: new requests get 503 with Retry\-After while the transactions in flight
finish, for at most \fI[sip] drain_secs\fR (32 seconds by default); then exit 0. A
second signal stops at once.
.SH "EXIT STATUS"
0 on success; 1 on an error, which is printed on standard error (\fBcallsign verify\fR:
when any header or request does not pass); 2 when the command line is not understood.
.SH "SEE ALSO"
The operations guide and the reference: \fIREADME.md\fR and the pages under
\fIdocs/\fR, installed in \fI/usr/share/doc/callsign\fR.
"#;

/// Writes `callsign.1` and one page per subcommand (`callsign-serve.1`,
/// `callsign-config-check.1`, ...) into `out`, created when missing.
pub fn man(out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut cmd = Cli::command().disable_help_subcommand(true);
    // Building names each subcommand for its page: `callsign-config-check`.
    cmd.build();
    let written = pages(cmd, out, true)?;
    println!("wrote {written} manual pages to {}", out.display());
    Ok(())
}

/// Writes the page of `cmd` and of each of its subcommands; how many.
fn pages(cmd: clap::Command, out: &Path, top: bool) -> Result<usize> {
    let mut written = 0;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        written += pages(sub.clone(), out, false)?;
    }
    let page = clap_mangen::Man::new(cmd)
        .source(format!("callsign {}", env!("CARGO_PKG_VERSION")))
        .manual("callsign manual");
    let mut roff = Vec::new();
    page.render(&mut roff)?;
    if top {
        roff.extend_from_slice(MAIN_PAGE_SECTIONS.as_bytes());
    }
    let path = out.join(page.get_filename());
    std::fs::write(&path, roff).with_context(|| format!("writing {}", path.display()))?;
    Ok(written + 1)
}

/// Prints the completion script for `shell` on standard output.
pub fn completions(shell: Shell) {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "callsign", &mut std::io::stdout());
}
