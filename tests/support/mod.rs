//! Helpers shared by the test crates, included once by each crate that needs them
//! (`#[path = "../support/mod.rs"] mod support;` in its `main.rs`). A crate uses
//! part of them, so unused items are allowed.
#![allow(dead_code)]

pub mod builders;
pub mod cli;
pub mod moto;
pub mod org;
pub mod postgres;
pub mod region_gate;
pub mod service;
pub mod tools;
pub mod trail;
pub mod views;
