//! The gRPC surface: one handler file per service, conversions, validation,
//! page tokens and the page flow, the single Error → Status mapping, and the
//! codec that answers undecodable requests with it.

pub mod access;
pub mod codec;
pub mod convert;
pub mod guard;
pub mod page_token;
pub mod paging;
pub mod policy_service;
pub mod status;
pub mod ticket_service;
pub mod validate;
