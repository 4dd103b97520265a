//! Serves a simulated world of N synthetic domains on loopback for manual runs and
//! throughput measurements, then exits after a bounded time.
//!
//! ```text
//! cargo run --release -p servedby-testnet --example world -- --domains 10000 --seconds 600 --dir /tmp/w
//! ```
//! writes `/tmp/w/domains.txt` and `/tmp/w/net-args` (the flags that point servedby at
//! the world: `--nameserver`, `--connect-to`, `--allow-egress 127.0.0.0/8`, …), prints
//! "ready", and serves until the time is up. Run it inside a loopback-only network
//! namespace (`unshare -n`) together with servedby for the strongest guarantee.

use std::time::{Duration, Instant};

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = arg(&args, "--domains", "1000").parse().unwrap_or(0);
    let seconds: u64 = arg(&args, "--seconds", "300").parse().expect("--seconds S");
    let variant: u32 = arg(&args, "--variant", "1").parse().expect("--variant 1|2");
    let dir = std::path::PathBuf::from(arg(&args, "--dir", "."));
    std::fs::create_dir_all(&dir)?;
    // `--domains builtin`: the builtin watchlist's domains (the demo world).
    let domains: Vec<String> = if arg(&args, "--domains", "") == "builtin" {
        servedby_watchlist::Watchlist::builtin()
            .expect("builtin watchlist")
            .all_domains()
            .map(|(d, _)| d.to_string())
            .collect()
    } else {
        (0..n)
            .map(|i| format!("site{i}.corp{}.example-{}.com", i % 97, i % 13))
            .collect()
    };
    let n = domains.len();
    let t = Instant::now();
    let world = servedby_testnet::world::World::start(
        &servedby_testnet::demo::spec(&domains, variant),
        &dir,
    )
    .await?;
    std::fs::write(dir.join("domains.txt"), domains.join("\n") + "\n")?;
    std::fs::write(dir.join("net-args"), world.net_args().join("\n") + "\n")?;
    println!(
        "ready: {n} domains in {:.1}s; flags in {}",
        t.elapsed().as_secs_f64(),
        dir.join("net-args").display()
    );
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    Ok(())
}
