//! callsign: a SIP proxy that signs outbound calls with STIR/SHAKEN.

pub mod certs;
pub mod identity;
pub mod passport;
pub mod sip;
pub mod tn;
pub mod trust;
