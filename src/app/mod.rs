//! Wires the modules together for each subcommand.
pub fn main() -> i32 {
    0
}
