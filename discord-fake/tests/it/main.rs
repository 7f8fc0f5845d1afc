//! The fake proven against the real client: a tiny poise 0.7 / serenity 0.12 bot (defined here,
//! not the product bot) connects through the documented recipe and talks to the fake.

mod bot;
mod faults;
mod gateway;
mod helpers;
mod interactions;
mod protocol;
