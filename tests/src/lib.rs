//! # local-account — test infrastructure, not a product component
//!
//! A local AWS account for tests, `make demo` and benchmarks:
//!
//! - [`moto`]: moto server (DynamoDB, SNS, SQS, Resource Groups Tagging, STS) from the project
//!   venv on a free loopback port, killed on drop.
//! - [`standin`]: the AWS Backup stand-in (REST-JSON Backup API for the real SDK client,
//!   fault injection, call counts).
//! - [`scenario`]: declarative scenario files (`tests/scenarios/*.json`) with a shorthand for
//!   scheduled recovery points and the findings each scenario is built to produce.
//! - [`account`]: [`LocalAccount`], both servers seeded from a scenario through the real SDK
//!   clients, with an SNS alert topic read back through a subscribed SQS queue.

pub mod account;
pub mod http;
pub mod moto;
pub mod scenario;
pub mod standin;

pub use account::{AccountError, Alert, LocalAccount, SeededPlan, SeededRule};
pub use moto::{MotoError, MotoServer};
pub use scenario::{ExpectedFinding, Scenario, ScenarioError};
