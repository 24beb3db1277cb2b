//! The scenario generator: `local_account::generate` (the local organization generates its
//! accounts with it too), re-exported so the benchmarks keep their paths.

pub use local_account::generate::*;
