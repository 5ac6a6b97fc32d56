//! The integration tests, one module per area, built as one binary (`integration`):
//! `cargo test --test integration MODULE::` runs one area.

mod common;

mod archives;
mod auth_cli;
mod cli;
mod cli_faults;
mod damage;
mod damage_examples;
mod escapes;
mod formats;
mod fuzz;
mod gate;
mod hardening;
mod json_schema;
mod mask_props;
mod repair_props;
mod reply;
mod rule_examples;
mod samples;
mod scan;
mod secrets;
mod serve;
mod snapshots;
