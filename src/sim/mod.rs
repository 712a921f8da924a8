//! Simulation support, native builds only: what tests and benches need to play the provider.
//!
//! Nothing here ships in the `.wasm` (`lib.rs` compiles this module only off wasm32). The
//! simulators drive the real [`crate::engine::machine::SessionMachine`]; this module supplies the
//! provider's side: tokens shaped like Cognito's and answers shaped like its API.

pub mod baselines;
pub mod chart;
pub mod fleet;
pub mod key_fleet;
pub mod mint;
pub mod quota;
