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
//! - [`org`]: [`OrgAccount`] ([`LocalAccount::start_org`]), a local AWS Organizations
//!   organization whose accounts each hold a scenario per region (`tests/scenarios/org-*.json`).
//! - [`generate`]: the scenario generator (bench's), also used by org scenarios.
//! - [`fault_proxy`]: a fault-injecting HTTP proxy in front of moto (throttling, 5xx,
//!   denials, hangs, second-page failures per operation).
//! - [`model_check`]: checks the stand-in's requests and responses against AWS's own AWS Backup
//!   API model (botocore's `service-2.json`, installed by `make venv`).
//! - [`restore_fixture`]: restore tests: shaped tables, restore jobs, restore job events.
//! - [`matrix`]: the fault matrix's cells, fault kinds, violations and the rendering of
//!   `docs/FAULT_MATRIX.md`.

pub mod account;
pub mod fault_proxy;
pub mod generate;
pub mod http;
pub mod matrix;
pub mod model_check;
pub mod moto;
pub mod org;
pub mod restore_fixture;
pub mod scenario;
pub mod standin;

pub use account::{
    AccountError, Alert, Credentials, EvidenceBucketSpec, LocalAccount, SeededPlan, SeededRule,
};
pub use moto::{MotoError, MotoServer};
pub use org::{OrgAccount, OrgAccountSpec, OrgScenario, OuSpec};
pub use scenario::{ExpectedFinding, Scenario, ScenarioError, TableSpec};
