//! systemd's readiness protocol (`sd_notify`): under a `Type=notify` unit, systemd sets
//! `NOTIFY_SOCKET` and `callsign serve` sends `READY=1` once its listeners are bound and
//! its index is built, and `STOPPING=1` when it begins to shut down. Without the
//! variable nothing is sent.

use std::os::unix::net::UnixDatagram;

/// Sends `state` (e.g. `READY=1`) to the socket `NOTIFY_SOCKET` names, a path or an
/// abstract name (`@…`). Whether it was sent; a failure is logged, never fatal.
pub fn send(state: &str) -> bool {
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else {
        return false;
    };
    let sent = UnixDatagram::unbound().and_then(|socket| {
        let bytes = std::os::unix::ffi::OsStrExt::as_bytes(target.as_os_str());
        match bytes.strip_prefix(b"@") {
            Some(name) => {
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                socket.send_to_addr(state.as_bytes(), &addr)
            }
            None => socket.send_to(state.as_bytes(), &target),
        }
    });
    match sent {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(error = %e, socket = %target.to_string_lossy(), "cannot notify systemd");
            false
        }
    }
}
