//! (being written)

pub const SUITE: &str = "s390_skeys";

pub fn cases() -> Vec<harness::Case> {
    vec![]
}
