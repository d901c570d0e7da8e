//! (being written)

pub const SUITE: &str = "s390_mem_op";

pub fn cases() -> Vec<harness::Case> {
    vec![]
}
