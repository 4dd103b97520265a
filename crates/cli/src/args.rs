//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Which companies keep a given organisation online, for what, and since when.
///
/// Exit codes: 0 when the command completed (also when some targets ended in failure
/// outcomes: those are data), 2 for bad usage or bad input, 1 for any other error.
#[derive(Debug, Parser)]
#[command(name = "servedby", version, about, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Scan targets and store the scan (observations and relationships).
    Scan(ScanArgs),
    /// Observe targets and print raw observations (nothing is stored).
    Observe(ObserveArgs),
    /// Observe targets and print a human summary of who serves them.
    Who(ObserveArgs),
    /// Bulk DNS: one JSON line per name and record type.
    Resolve(ResolveArgs),
    /// List stored scans.
    Scans(ScansArgs),
    /// Report on a stored scan: who serves whom, for what, since when.
    Report(ReportArgs),
    /// Relationships that appeared, disappeared or changed between two scans.
    Changes(ChangesArgs),
    /// Start the built-in simulated world, scan it twice with a change in between, and
    /// leave the database and an HTML report in the current directory. Needs no network.
    Demo(DemoArgs),
    /// The provider catalog.
    #[command(subcommand)]
    Catalog(CatalogCmd),
    /// The IP→ASN table.
    #[command(subcommand)]
    Netdb(NetdbCmd),
    /// Watchlists of organisations.
    #[command(subcommand)]
    Watchlist(WatchlistCmd),
}

/// Where targets come from.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct InputArgs {
    /// Domains, URLs or Unicode names.
    #[arg(value_name = "DOMAIN")]
    pub(crate) targets: Vec<String>,
    /// Read targets from FILE, one per line (`-` for standard input); blank lines and
    /// `#` comments are ignored.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    pub(crate) input: Option<PathBuf>,
}

/// Options shared by every command that touches the network.
#[derive(Debug, Args, Clone)]
pub(crate) struct NetArgs {
    /// DNS server to ask, IP:PORT (repeatable). Default: the system's resolvers from
    /// /etc/resolv.conf.
    #[arg(long = "nameserver", value_name = "IP:PORT")]
    pub(crate) nameservers: Vec<String>,
    /// Connect to TO instead of FROM (curl-like; FROM is `*`, an IP or a CIDR with an
    /// optional :PORT; TO is IP:PORT). The TLS server name and HTTP Host stay the original.
    #[arg(long = "connect-to", value_name = "FROM=TO")]
    pub(crate) connect_to: Vec<String>,
    /// Only ever dial addresses in CIDR (repeatable); others are refused and recorded
    /// as `blocked`.
    #[arg(long = "allow-egress", value_name = "CIDR")]
    pub(crate) allow_egress: Vec<String>,
    /// Never dial addresses in CIDR (repeatable; wins over --allow-egress).
    #[arg(long = "deny-egress", value_name = "CIDR")]
    pub(crate) deny_egress: Vec<String>,
    /// RDAP server to use for every TLD (default: IANA bootstrap).
    #[arg(long = "rdap-server", value_name = "URL")]
    pub(crate) rdap_server: Option<String>,
    /// Extra trusted root certificates (PEM), added to the standard web roots.
    #[arg(long = "ca-file", value_name = "PEM")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Domains in flight at once.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub(crate) concurrency: usize,
    /// Worker threads (default: one per core). `resolve` runs N independent shards,
    /// each with its own sockets and its share of the limits, so that no reply has to
    /// wake another thread.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) threads: Option<u16>,
    /// DNS queries per second overall (0: bounded by concurrency only).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub(crate) rate: u32,
    /// Concurrent DNS queries per nameserver (a congestion window grows up to it).
    #[arg(long = "per-server", default_value_t = 128, value_name = "N")]
    pub(crate) per_server: usize,
    /// Concurrent connections per web host.
    #[arg(long = "per-host", default_value_t = 4, value_name = "N")]
    pub(crate) per_host: usize,
    /// Total deadline for each request in seconds (a DNS lookup with retries, a TLS
    /// handshake, a whole HTTP exchange including the body).
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub(crate) timeout: f64,
    /// Maximum body bytes read per page, counted after decompression.
    #[arg(long = "max-body", default_value_t = 2 * 1024 * 1024, value_name = "BYTES")]
    pub(crate) max_body: u64,
    /// The User-Agent header sent.
    #[arg(long = "user-agent", value_name = "TEXT")]
    pub(crate) user_agent: Option<String>,
    /// A label for where the scan runs from, recorded in every observation.
    #[arg(long, value_name = "NAME")]
    pub(crate) vantage: Option<String>,
}

/// Where the provider catalog and the IP→ASN table come from.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct DataArgs {
    /// Load the provider catalog from DIR (one TOML file per parent company) instead of
    /// the builtin one.
    #[arg(long, value_name = "DIR")]
    pub(crate) catalog: Option<PathBuf>,
    /// Load the IP→ASN table from FILE (netdb format) instead of the builtin one.
    #[arg(long, value_name = "FILE")]
    pub(crate) netdb: Option<PathBuf>,
}

/// Output formats for commands that print records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum Format {
    /// A table for people.
    #[default]
    Table,
    /// One JSON object per line.
    Jsonl,
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Scan the known domains of a watchlist (`builtin` or a TOML file).
    #[arg(long, value_name = "NAME|FILE")]
    pub(crate) watchlist: Option<String>,
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// Resume an interrupted scan (default: the latest unfinished one). Its targets
    /// come from the stored scan.
    #[arg(long, value_name = "SCAN_ID", num_args = 0..=1, default_missing_value = "latest")]
    pub(crate) resume: Option<String>,
    /// The database file.
    #[arg(long, default_value = "servedby.db", value_name = "PATH")]
    pub(crate) db: PathBuf,
    /// What to print: a summary table, or one relationship per JSON line.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: Format,
    /// Do not show a progress bar.
    #[arg(long)]
    pub(crate) quiet: bool,
    #[command(flatten)]
    pub(crate) net: NetArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ObserveArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// Output format (observe: jsonl only; who: table or jsonl relationships).
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: Format,
    #[command(flatten)]
    pub(crate) net: NetArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ResolveArgs {
    /// Names to resolve.
    #[arg(value_name = "NAME")]
    pub(crate) names: Vec<String>,
    /// Read names from FILE (`-` for standard input).
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    pub(crate) input: Option<PathBuf>,
    /// Record types, comma-separated.
    #[arg(
        long = "type",
        default_value = "A",
        value_delimiter = ',',
        value_name = "TYPES"
    )]
    pub(crate) types: Vec<String>,
    /// Output format (jsonl).
    #[arg(long, value_enum, default_value = "jsonl")]
    pub(crate) format: Format,
    /// Print a throughput summary on standard error at the end.
    #[arg(long)]
    pub(crate) stats: bool,
    #[command(flatten)]
    pub(crate) net: NetArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ScansArgs {
    /// The database file.
    #[arg(long, default_value = "servedby.db", value_name = "PATH")]
    pub(crate) db: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: Format,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CatalogCmd {
    /// Load and validate the catalog; print counts.
    Check {
        /// A catalog directory to check instead of the builtin one.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Print the provider entries.
    Show {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Find which providers an IP, ASN, domain, URL or registrar name belongs to.
    Lookup {
        /// What to look up.
        #[arg(required = true)]
        queries: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum NetdbCmd {
    /// Look up IP addresses.
    Lookup {
        /// IP addresses.
        #[arg(required = true)]
        ips: Vec<String>,
        /// Use this netdb file instead of the builtin table.
        #[arg(long, value_name = "FILE")]
        netdb: Option<PathBuf>,
    },
    /// Print the table's version and size.
    Info {
        /// Use this netdb file instead of the builtin table.
        #[arg(long, value_name = "FILE")]
        netdb: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum WatchlistCmd {
    /// Print a watchlist's entities.
    Show {
        /// `builtin` or a watchlist TOML file.
        #[arg(default_value = "builtin")]
        name: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Convert a US Consolidated Screening List file (JSON or CSV) into watchlist JSONL.
    ImportCsl {
        /// The CSL file.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// The database file.
    #[arg(long, default_value = "servedby.db", value_name = "PATH")]
    pub(crate) db: PathBuf,
    /// The scan to report on: an id or `latest`.
    #[arg(long, default_value = "latest", value_name = "ID|latest")]
    pub(crate) scan: String,
    /// The view: provider, entity, country, service, or relationships (one per line).
    #[arg(long, default_value = "provider", value_name = "VIEW")]
    pub(crate) by: servedby_report::View,
    /// Which relationships count: contract, embed, link or all.
    #[arg(long, default_value = "all", value_name = "STRENGTH")]
    pub(crate) strength: servedby_report::StrengthFilter,
    /// Output format: table, jsonl, csv, parquet, html or ftm.
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    pub(crate) format: servedby_report::Format,
    /// Write to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// The watchlist that names entities (`builtin` or a file).
    #[arg(long, default_value = "builtin", value_name = "NAME|FILE")]
    pub(crate) watchlist: String,
}

#[derive(Debug, Args)]
pub(crate) struct ChangesArgs {
    /// The database file.
    #[arg(long, default_value = "servedby.db", value_name = "PATH")]
    pub(crate) db: PathBuf,
    /// Compare against this scan id, or the latest finished scan started before DATE
    /// (YYYY-MM-DD or RFC 3339). Default: the scan before the newest.
    #[arg(long, value_name = "DATE|SCAN")]
    pub(crate) since: Option<String>,
    /// The newer scan (default: the newest).
    #[arg(long, default_value = "latest", value_name = "ID|latest")]
    pub(crate) scan: String,
    /// Output format: table, jsonl or csv.
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    pub(crate) format: servedby_report::Format,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// The database file to create (an existing demo database is replaced).
    #[arg(long, default_value = "servedby.db", value_name = "PATH")]
    pub(crate) db: PathBuf,
    /// Where to write the HTML report.
    #[arg(long, default_value = "servedby-report.html", value_name = "FILE")]
    pub(crate) report: PathBuf,
    /// Open the HTML report in a browser afterwards.
    #[arg(long)]
    pub(crate) open: bool,
    /// Do not show progress.
    #[arg(long)]
    pub(crate) quiet: bool,
}
