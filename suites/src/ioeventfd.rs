//! (being written)

pub const SUITE: &str = "ioeventfd";

pub fn cases() -> Vec<harness::Case> {
    vec![]
}
