//! Integration suites against the real application. One binary, so it links once.

mod access_matrix;
mod accounts;
mod admin;
mod bad_input;
mod catalog;
mod cli;
mod covers;
mod edge;
mod export;
mod feed;
mod health;
mod helpers;
mod lists;
mod metrics;
mod openapi;
mod playlists;
mod purchase_safety;
mod purchases;
mod search;
mod seeding;
mod shutdown;
mod staff;
mod staff_reports;
mod streaming;
mod taxonomy;
mod uploads;
