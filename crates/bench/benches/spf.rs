//! SPF parsing (`servedby_spf::parse`) over realistic records: providers' netblock
//! records with many `ip4:`/`ip6:` ranges, customers' records with includes, `a`/`mx`,
//! `redirect=`, `exp=` and macros, and a few malformed ones (which must fail fast).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Records as found in TXT answers. The last ones do not parse.
const RECORDS: &[&str] = &[
    "v=spf1 include:_spf.google.com ~all",
    "v=spf1 include:spf.protection.outlook.com -all",
    "v=spf1 include:_spf.google.com include:sendgrid.net include:mailgun.org ~all",
    "v=spf1 mx a include:spf.mail.qq.com include:spf.qiye.aliyun.com ~all",
    "v=spf1 ip4:192.0.2.10 ip4:198.51.100.0/24 include:amazonses.com include:servers.mcsv.net -all",
    "v=spf1 redirect=_spf.example.com",
    "v=spf1 a:mail.example.org mx:example.org/24 ptr:example.org ?all",
    "v=spf1 include:_netblocks.google.com include:_netblocks2.google.com include:_netblocks3.google.com ~all",
    "v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ip4:66.102.0.0/20 ip4:66.249.80.0/20 ip4:72.14.192.0/18 ip4:74.125.0.0/16 ip4:108.177.8.0/21 ip4:173.194.0.0/16 ip4:209.85.128.0/17 ip4:216.58.192.0/19 ip4:216.239.32.0/19 ~all",
    "v=spf1 ip6:2001:4860:4000::/36 ip6:2404:6800:4000::/36 ip6:2607:f8b0:4000::/36 ip6:2800:3f0:4000::/36 ip6:2a00:1450:4000::/36 ip6:2c0f:fb50:4000::/36 ~all",
    "v=spf1 include:spfd.protection.outlook.com ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/15 ip4:52.102.0.0/16 ip4:104.47.0.0/17 ip6:2a01:111:f400::/48 ip6:2a01:111:f403::/49 -all",
    "v=spf1 ip4:167.89.0.0/17 ip4:208.117.48.0/20 ip4:50.31.32.0/19 ip4:198.37.144.0/20 ip4:149.72.0.0/16 ~all",
    "v=spf1 ip4:199.255.192.0/22 ip4:199.127.232.0/22 ip4:54.240.0.0/18 ip4:69.169.224.0/20 ip4:23.249.208.0/20 -all",
    "v=spf1 include:%{ir}.%{v}._spf.example.net exists:%{l1r+}.%{d}.spf.example.net -all",
    "v=spf1 exists:%{i}._spf.mta.salesforce.com include:_spf.salesforce.com ~all",
    "v=spf1 include:_spf.google.com include:spf.protection.outlook.com include:_spf.salesforce.com include:servers.mcsv.net include:spf.mandrillapp.com include:sendgrid.net include:mail.zendesk.com include:_spf.atlassian.net -all exp=explain._spf.%{d}",
    "v=spf1 +a +mx -ip4:203.0.113.0/24 ~include:spf.brevo.com ?all",
    "v=spf1 a/24 mx/24//64 ip6:2001:db8::/32 include:spf.messagingengine.com ~all",
    "V=SPF1 INCLUDE:_SPF.GOOGLE.COM   ~ALL",
    "v=spf1 -all",
    "v=spf1",
    "v=spf1 include:zoho.com include:transmail.net include:zcsend.net moo=bar ~all",
    // Malformed: not SPF, bad qualifier, bad CIDR, unknown mechanism, two redirects.
    "v=spf10 include:_spf.google.com ~all",
    "v=spf1 include:_spf.google.com *all",
    "v=spf1 ip4:192.0.2.0/33 -all",
    "v=spf1 ip4:300.1.2.3 ~all",
    "v=spf1 include:_spf.google.com foo:bar ~all",
    "v=spf1 redirect=a.example redirect=b.example",
    "v=spf1 include: ~all",
];

fn parsing(c: &mut Criterion) {
    let ok = RECORDS
        .iter()
        .filter(|r| servedby_spf::parse(r).is_ok())
        .count();
    let bytes: usize = RECORDS.iter().map(|r| r.len()).sum();
    eprintln!(
        "spf: {ok} of {} records parse, {} bytes on average",
        RECORDS.len(),
        bytes / RECORDS.len()
    );

    let mut group = c.benchmark_group("spf");
    group.throughput(Throughput::Elements(RECORDS.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| {
            RECORDS
                .iter()
                .map(|r| match servedby_spf::parse(black_box(r)) {
                    Ok(record) => record.dns_lookup_count() as usize,
                    Err(_) => 1,
                })
                .sum::<usize>()
        });
    });
    group.finish();
}

// What `criterion_group!` and `criterion_main!` expand to, written out because the
// group function they generate is a `pub fn` without docs (denied by `missing_docs`).
fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    parsing(&mut criterion);
    criterion.final_summary();
}
