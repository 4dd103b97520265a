//! An in-process loopback testnet for servedby's tests, benchmarks and demo.
//!
//! Every server binds to `127.0.0.1:0` and is built from a declarative description:
//! an authoritative DNS server ([`dns`]) for zones whose answers may carry real-world
//! public IPs, HTTPS/HTTP servers ([`web`]) presenting SNI-selected certificate chains
//! issued by test CAs with realistic issuer names ([`pki`]), and an RDAP server
//! ([`rdap`]). The prober reaches them through `--nameserver` and `--connect-to`, with
//! `--allow-egress 127.0.0.0/8`, so no packet ever leaves loopback.

pub mod demo;
pub mod dns;
pub mod hostile;
pub mod pki;
pub mod rdap;
pub mod web;
pub mod world;
