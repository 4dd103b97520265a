//! Builders for observations, small catalogs and small netdbs used by the tests.
#![allow(dead_code)]

use servedby_catalog::Catalog;
use servedby_model::*;
use servedby_netdb::{NetDb, NetDbBuilder};

pub(crate) const AT: Timestamp = time::macros::datetime!(2026-01-02 03:04:05 UTC);

pub(crate) fn obs(target: &str, host: &str, data: ObservationData) -> Observation {
    Observation {
        target: target.to_string(),
        host: host.to_string(),
        at: AT,
        vantage: None,
        resolver: Some("127.0.0.1:53".into()),
        outcome: Outcome::Ok,
        detail: None,
        data,
    }
}

pub(crate) fn dns(
    target: &str,
    host: &str,
    rtype: &str,
    chain: &[&str],
    answers: &[&str],
) -> Observation {
    obs(
        target,
        host,
        ObservationData::Dns(DnsData {
            rtype: rtype.into(),
            cname_chain: chain.iter().map(|s| s.to_string()).collect(),
            answers: answers
                .iter()
                .map(|v| DnsRecord {
                    name: chain.last().copied().unwrap_or(host).to_string(),
                    rtype: rtype.into(),
                    ttl: 300,
                    value: v.to_string(),
                })
                .collect(),
            tcp: false,
        }),
    )
}

pub(crate) fn spf(target: &str, host: &str, via: Option<&str>, includes: &[&str]) -> Observation {
    let terms = includes
        .iter()
        .map(|i| SpfTerm {
            qualifier: "+".into(),
            name: "include".into(),
            value: Some(i.to_string()),
        })
        .chain(std::iter::once(SpfTerm {
            qualifier: "-".into(),
            name: "all".into(),
            value: None,
        }))
        .collect();
    obs(
        target,
        host,
        ObservationData::Spf(SpfData {
            record: "v=spf1 …".into(),
            terms,
            via: via.map(str::to_string),
            lookups: 1,
        }),
    )
}

pub(crate) fn cert(issuer_cn: Option<&str>, issuer_org: Option<&str>) -> CertInfo {
    let mut dn = Vec::new();
    if let Some(cn) = issuer_cn {
        dn.push(format!("CN={cn}"));
    }
    if let Some(o) = issuer_org {
        dn.push(format!("O={o}"));
    }
    CertInfo {
        issuer: dn.join(", "),
        issuer_cn: issuer_cn.map(str::to_string),
        issuer_org: issuer_org.map(str::to_string),
        ..CertInfo::default()
    }
}

pub(crate) fn tls(target: &str, host: &str, chain: Vec<CertInfo>) -> Observation {
    obs(
        target,
        host,
        ObservationData::Tls(TlsData {
            port: 443,
            server_name: host.into(),
            chain: chain.into_iter().map(std::sync::Arc::new).collect(),
            verdict: Some(CertVerdict::Valid),
            ..TlsData::default()
        }),
    )
}

pub(crate) fn http(target: &str, hops: &[(&str, &[(&str, &str)])]) -> Observation {
    let hops: Vec<HttpHop> = hops
        .iter()
        .map(|(url, headers)| HttpHop {
            url: url.to_string(),
            remote: Some("127.0.0.1:443".into()),
            status: 200,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        })
        .collect();
    let final_url = hops.last().map(|h| h.url.clone());
    obs(
        target,
        target,
        ObservationData::Http(HttpData {
            url: hops.first().map(|h| h.url.clone()).unwrap_or_default(),
            hops,
            final_url,
            ..HttpData::default()
        }),
    )
}

pub(crate) fn resource(url: &str, usage: ResourceUsage) -> Resource {
    let host = url
        .split_once("://")
        .map_or(url, |(_, r)| r)
        .split(['/', '?', ':'])
        .next()
        .unwrap_or_default()
        .to_string();
    Resource {
        url: url.into(),
        host,
        element: if usage == ResourceUsage::Load {
            "script"
        } else {
            "a"
        }
        .into(),
        rel: None,
        usage,
    }
}

pub(crate) fn html(
    target: &str,
    page_url: &str,
    resources: Vec<Resource>,
    loaders: &[(&str, &str)],
) -> Observation {
    obs(
        target,
        target,
        ObservationData::Html(HtmlData {
            page_url: page_url.into(),
            resources,
            loader_ids: loaders
                .iter()
                .map(|(k, i)| LoaderId {
                    kind: k.to_string(),
                    id: i.to_string(),
                })
                .collect(),
            ..HtmlData::default()
        }),
    )
}

pub(crate) fn rdap(
    target: &str,
    registrar: Option<&str>,
    iana: Option<u32>,
    ns: &[&str],
) -> Observation {
    obs(
        target,
        target,
        ObservationData::Rdap(RdapData {
            domain: target.into(),
            server: "http://127.0.0.1/rdap/".into(),
            registrar: registrar.map(str::to_string),
            registrar_iana_id: iana,
            nameservers: ns.iter().map(|s| s.to_string()).collect(),
            ..RdapData::default()
        }),
    )
}

pub(crate) fn catalog(files: &[(&str, &str)]) -> Catalog {
    Catalog::from_sources(
        files
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect(),
    )
    .unwrap_or_else(|e| panic!("test catalog invalid: {e}"))
}

pub(crate) fn netdb(entries: &[(&str, u32, &str)]) -> NetDb {
    let mut b = NetDbBuilder::new("test-netdb");
    for (p, asn, org) in entries {
        b.insert(p.parse().unwrap(), *asn, org);
    }
    b.build()
}

/// (service, embed kind, provider id, provider name, confidence, evidence count)
pub(crate) fn summary(
    rels: &[Relationship],
) -> Vec<(String, Option<String>, String, String, f64, usize)> {
    rels.iter()
        .map(|r| {
            (
                r.service.to_string(),
                r.embed_kind.map(|k| k.to_string()),
                r.provider.id.clone(),
                r.provider.name.clone(),
                r.confidence,
                r.evidence.len(),
            )
        })
        .collect()
}
