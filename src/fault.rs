//! Test-only faults, to prove that the durability and race campaigns can
//! catch the bugs they look for. Compiled only with the `fault-injection`
//! cargo feature, which release builds never enable (CI checks that the
//! release binary does not contain them), and switched on by the
//! environment variable named below.
//!
//! - `ack-before-commit`: a write is answered before its transaction
//!   commits (the commit follows 300 ms later), so a crash in between loses
//!   an acknowledged write.
//! - `skip-cas`: writers do not take the chain head and revocations do not
//!   check that the row is still live, so concurrent revocations both apply.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    AckBeforeCommit,
    SkipCas,
}

#[cfg(feature = "fault-injection")]
pub fn active() -> Fault {
    match std::env::var("TILLIT_FAULT").as_deref() {
        Ok("ack-before-commit") => Fault::AckBeforeCommit,
        Ok("skip-cas") => Fault::SkipCas,
        _ => Fault::None,
    }
}

#[cfg(not(feature = "fault-injection"))]
pub fn active() -> Fault {
    Fault::None
}
