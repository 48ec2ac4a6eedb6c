//! The gRPC surface: one handler file per service, conversions, validation,
//! page tokens, and the single Error → Status mapping.

pub mod access;
pub mod convert;
pub mod guard;
pub mod page_token;
pub mod policy_service;
pub mod status;
pub mod ticket_service;
pub mod validate;
