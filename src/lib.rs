//! ticketd: a gRPC backend for customer-support tickets that enforces a
//! published support policy (channels per plan, priorities, response targets).
//!
//! Data flows one way: `api` (validate, convert) → `service` (use cases) →
//! `domain` (pure decisions) and `store` (persistence behind a trait).

pub mod account_cache;
pub mod api;
pub mod app;
pub mod auth;
pub mod client;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod net;
pub mod proto;
pub mod service;
pub mod sla_sweeper;
pub mod store;
pub mod telemetry;
pub mod watch;
