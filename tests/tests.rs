//! parley's integration tests, as one binary (one link of the dependency graph).
//!
//! - `cli`: the real `parley` executable, as a user runs it.
//! - `curation`: the log, votes, `parley report` and reloading the knowledge base.
//! - `daily`: the fact of the day, set with `/daily` and posted by the loop.
//! - `engine`: behaviours of the answer engine on the real knowledge base.
//! - `quality`: the question sets, scored by `parley eval`.
//! - `properties`: arbitrary input never panics and always yields a valid reply.

mod cli;
mod curation;
mod daily;
mod discord;
mod engine;
mod properties;
mod quality;
mod standin;
mod util;
