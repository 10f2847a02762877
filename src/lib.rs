//! parley answers questions about the direct talks between Russia and Ukraine since
//! 2022, from a knowledge base curated by hand, with citations quoted verbatim from the
//! source documents, and says so plainly when the documents do not answer.
//!
//! # Crate map
//! - [`knowledge`]: sources, facts and aliases as loaded from `knowledge/`, and the
//!   checks that stop a bad knowledge base from loading (quotes must be verbatim).
//! - [`engine`]: the answer engine, pure and synchronous: question in, [`engine::Reply`]
//!   out. No I/O, no clock, no runtime.
//! - [`timeline`]: dates as precisely as the source gives them, and the dated facts in
//!   order.
//! - [`eval`]: scoring the engine on a question set.
//! - [`live`]: the knowledge base being served, fully checked and swapped atomically
//!   on reload.
//! - [`report`]: what the curation log says: unanswered questions grouped, the facts
//!   voted down, answer counts (pure).
//! - [`render`]: replies, facts and timelines as text or JSON (pure).
//! - [`config`]: the settings file, `config/parley.toml`.
//! - [`daily`]: the fact of the day: when each server's post is due, and which fact (pure).
//! - [`store`]: state that survives restarts, in one SQLite file under the data directory.
//! - [`discord`]: `parley serve`, the Discord bot: a thin adapter over the engine.
//! - [`cli`]: the `parley` command line. With [`discord`] (the clock, the network) and
//!   [`store`] (its own file), the only code that does I/O or reads the clock.

pub mod cli;
pub mod config;
pub mod daily;
pub mod discord;
pub mod engine;
pub mod eval;
pub mod knowledge;
pub mod live;
pub mod render;
pub mod report;
pub mod store;
pub mod timeline;

pub use config::{Config, EngineConfig};
pub use engine::{Engine, Reply};
pub use knowledge::KnowledgeBase;
