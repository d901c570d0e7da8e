//! (being written)

pub const SUITE: &str = "s390_irq_state";

pub fn cases() -> Vec<harness::Case> {
    vec![]
}
